import Foundation
import Synchronization

/// Slows password guessing: after too many failed logins within a window, further
/// attempts for that account, or from that IP, are refused until the window passes.
public final class LoginRateLimiter: Sendable {
    let maxPerAccount: Int
    let maxPerIP: Int
    let window: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])

    public init(maxPerAccount: Int, maxPerIP: Int, window: TimeInterval) {
        self.maxPerAccount = maxPerAccount
        self.maxPerIP = maxPerIP
        self.window = window
    }

    /// Seconds to wait before trying again, or nil when an attempt is allowed now.
    public func retryAfter(account: String, ip: String, now: Date = Date()) -> Int? {
        failures.withLock { state in
            let checks = [("acct:" + account.lowercased(), maxPerAccount), ("ip:" + ip, maxPerIP)]
            var wait: TimeInterval = 0
            for (key, limit) in checks {
                let recent = (state[key] ?? []).filter { now.timeIntervalSince($0) < window }
                state[key] = recent
                if recent.count >= limit, let oldest = recent.first { wait = max(wait, window - now.timeIntervalSince(oldest)) }
            }
            return wait > 0 ? Int(wait.rounded(.up)) : nil
        }
    }

    public func recordFailure(account: String, ip: String, now: Date = Date()) {
        failures.withLock { state in
            state["acct:" + account.lowercased(), default: []].append(now)
            state["ip:" + ip, default: []].append(now)
        }
    }

    public func recordSuccess(account: String) {
        _ = failures.withLock { $0.removeValue(forKey: "acct:" + account.lowercased()) }
    }
}

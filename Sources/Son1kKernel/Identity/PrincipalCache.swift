import Dispatch
import Son1kPluginKit
import Synchronization

/// Principals resolved in the last second, by credential.
///
/// Resolving a JWT reads the user's current role (so a demotion or a deletion is honoured
/// whatever the token says), and under load that read costs as much as the rest of a small
/// request. Entries live `ttl`; a role change made through this process drops them at once,
/// so only a change made by another process (the CLI on the same database) waits up to
/// `ttl` to take effect. Only successful resolutions are kept, and at most `capacity`.
final class PrincipalCache: Sendable {
    private struct Entry {
        var principal: Principal
        var expires: UInt64
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let ttl: UInt64
    private let capacity: Int

    init(ttlSeconds: Double = 1, capacity: Int = 10_000) {
        ttl = UInt64(ttlSeconds * 1e9)
        self.capacity = capacity
    }

    /// The cached principal for `key`, or the one `resolve` finds (cached when not nil).
    func principal(_ key: String, resolve: () throws -> Principal?) rethrows -> Principal? {
        let now = DispatchTime.now().uptimeNanoseconds
        if let hit = entries.withLock({ $0[key] }), hit.expires > now { return hit.principal }
        guard let principal = try resolve() else { return nil }
        entries.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = Entry(principal: principal, expires: now + ttl)
        }
        return principal
    }

    func removeAll() { entries.withLock { $0.removeAll() } }
}

import Foundation
import Son1kContracts
import Son1kPluginKit

/// One request to an external provider (a MusicGen server, an XTTS server) made with an
/// account leased from the stealth plugin (`stealth.acquire`), and its outcome reported back
/// (`stealth.report`), so the router can rest rate-limited accounts and ban refused ones.
///
/// What the caller's job should do comes back as a ``ProviderCall/Failure``: `postponed`
/// when the account, not the job, was the problem (none free, rate limited, refused — another
/// account may take it), `failed` otherwise, retryable for the provider's own errors.
public struct ProviderCall<Config: PluginConfig> {
    public let ctx: Context<Config>
    public let provider: String

    public init(ctx: Context<Config>, provider: String) {
        self.ctx = ctx
        self.provider = provider
    }

    public enum Failure: Error, CustomStringConvertible {
        case postponed(String, afterSeconds: Double)
        case failed(String, retryable: Bool)

        public var description: String {
            switch self {
            case .postponed(let reason, _), .failed(let reason, _): reason
            }
        }
    }

    /// The longest a job waits when every account rests.
    public static var maxWaitS: Double { 300 }

    /// POSTs `body` to `{base_url}{path}` with the lease's headers (and proxy). Returns the
    /// 2xx response whose body `accept` approves; anything else is a ``Failure``.
    public func post(_ path: String, body: [UInt8], headers: [String: String], timeoutS: Double,
                     accept: ([UInt8]) -> Bool) throws(Failure) -> HTTPClient.Response {
        let lease: Lease
        do {
            lease = try ctx.call(.stealthAcquire, LeaseRequest(provider: provider))
        } catch let error as PluginError where error.code == "service_unavailable" {
            throw .failed("Provider accounts come from the stealth plugin, which is not running (\(error.detail)).", retryable: false)
        } catch {
            throw .failed("Leasing a \(provider) account failed: \(error)", retryable: true)
        }
        guard lease.available, let leaseID = lease.leaseId else {
            let when = lease.nextAvailableAt.map { " until \($0)" } ?? ""
            throw .postponed("No \(provider) account is free\(when) (\(lease.reason?.rawValue ?? "none available")).",
                             afterSeconds: min(Self.maxWaitS, lease.retryAfterS ?? Self.maxWaitS))
        }
        guard var base = lease.baseUrl else {
            report(leaseID, .error, status: nil, excerpt: "no base_url configured")
            throw .failed("Neither provider \(provider) nor its account has a base_url.", retryable: false)
        }
        while base.hasSuffix("/") { base.removeLast() }
        var all = lease.headers ?? [:]
        for (name, value) in headers { all[name] = value }

        let response: HTTPClient.Response
        do {
            response = try ctx.http.fetch(.init(method: "POST", url: base + path, headers: all, body: body, timeoutSeconds: timeoutS,
                                                proxy: lease.proxy))
        } catch let error as PluginError {
            if ["egress_denied", "invalid_url", "invalid_proxy"].contains(error.code) {
                report(leaseID, .ok, status: nil, excerpt: nil)
                throw .failed("\(error.detail) (this plugin's egress_hosts)", retryable: false)
            }
            report(leaseID, .error, status: nil, excerpt: error.detail)
            throw .failed("Provider \(provider) unreachable: \(error.detail)", retryable: true)
        } catch {
            report(leaseID, .error, status: nil, excerpt: "\(error)")
            throw .failed("Provider \(provider) unreachable: \(error)", retryable: true)
        }

        switch response.status {
        case 200..<300 where accept(response.body):
            report(leaseID, .ok, status: response.status, excerpt: nil)
            return response
        case 200..<300:
            report(leaseID, .error, status: response.status, excerpt: "unexpected answer")
            throw .failed("Provider \(provider) answered with something else than asked for.", retryable: true)
        case 401, 403, 429, 503:
            let outcome: LeaseReport.Outcome = [401, 403].contains(response.status) ? .authFailed : .rateLimited
            report(leaseID, outcome, status: response.status, excerpt: response.text, retryAfter: Self.retryAfter(response.headers["retry-after"]))
            throw .postponed("A \(provider) account answered HTTP \(response.status); another account will take the job.", afterSeconds: 0)
        default:
            // A 4xx is the request's fault, not the account's (unless its words say "rate
            // limit"); a 5xx is the provider's, and counts against the account.
            let clientError = (400..<500).contains(response.status)
            let verdict = report(leaseID, clientError ? .ok : .error, status: response.status, excerpt: response.text)
            if verdict?.outcome == .rateLimited {
                throw .postponed("A \(provider) account is rate limited; another account will take the job.", afterSeconds: 0)
            }
            throw clientError ? .failed("Provider \(provider) refused the request (HTTP \(response.status)).", retryable: false)
                              : .failed("Provider \(provider) failed (HTTP \(response.status)).", retryable: true)
        }
    }

    @discardableResult
    private func report(_ lease: String, _ outcome: LeaseReport.Outcome, status: Int?, excerpt: String?, retryAfter: Double? = nil) -> LeaseVerdict? {
        do {
            return try ctx.call(.stealthReport, LeaseReport(leaseId: lease, outcome: outcome, statusCode: status,
                                                            retryAfterS: retryAfter, bodyExcerpt: excerpt.map { String($0.prefix(300)) }))
        } catch {
            ctx.log.warning("could not report a \(provider) lease's outcome: \(error)")
            return nil
        }
    }

    /// `Retry-After` in seconds, from either of its forms (RFC 9110 §10.2.3).
    public static func retryAfter(_ value: String?) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return format.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }
}

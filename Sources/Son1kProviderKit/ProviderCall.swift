import Foundation
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
        let lease: JSONValue
        do {
            lease = try ctx.call("stealth.acquire", ["provider": .string(provider)] as JSONValue)
        } catch let error as PluginError where error.code == "service_unavailable" {
            throw .failed("Provider accounts come from the stealth plugin, which is not running (\(error.detail)).", retryable: false)
        } catch {
            throw .failed("Leasing a \(provider) account failed: \(error)", retryable: true)
        }
        guard lease["available"] == true, let leaseID = lease["lease_id"].string else {
            let when = lease["next_available_at"].string.map { " until \($0)" } ?? ""
            throw .postponed("No \(provider) account is free\(when) (\(lease["reason"].string ?? "none available")).",
                             afterSeconds: min(Self.maxWaitS, lease["retry_after_s"].double ?? Self.maxWaitS))
        }
        guard var base = lease["base_url"].string else {
            report(leaseID, "error", status: nil, excerpt: "no base_url configured")
            throw .failed("Neither provider \(provider) nor its account has a base_url.", retryable: false)
        }
        while base.hasSuffix("/") { base.removeLast() }
        var all = (lease["headers"].object ?? [:]).compactMapValues(\.string)
        for (name, value) in headers { all[name] = value }

        let response: HTTPClient.Response
        do {
            response = try ctx.http.fetch(.init(method: "POST", url: base + path, headers: all, body: body, timeoutSeconds: timeoutS,
                                                proxy: lease["proxy"].string))
        } catch let error as PluginError {
            if ["egress_denied", "invalid_url", "invalid_proxy"].contains(error.code) {
                report(leaseID, "ok", status: nil, excerpt: nil)
                throw .failed("\(error.detail) (this plugin's egress_hosts)", retryable: false)
            }
            report(leaseID, "error", status: nil, excerpt: error.detail)
            throw .failed("Provider \(provider) unreachable: \(error.detail)", retryable: true)
        } catch {
            report(leaseID, "error", status: nil, excerpt: "\(error)")
            throw .failed("Provider \(provider) unreachable: \(error)", retryable: true)
        }

        switch response.status {
        case 200..<300 where accept(response.body):
            report(leaseID, "ok", status: response.status, excerpt: nil)
            return response
        case 200..<300:
            report(leaseID, "error", status: response.status, excerpt: "unexpected answer")
            throw .failed("Provider \(provider) answered with something else than asked for.", retryable: true)
        case 401, 403, 429, 503:
            let outcome = [401, 403].contains(response.status) ? "auth_failed" : "rate_limited"
            report(leaseID, outcome, status: response.status, excerpt: response.text, retryAfter: Self.retryAfter(response.headers["retry-after"]))
            throw .postponed("A \(provider) account answered HTTP \(response.status); another account will take the job.", afterSeconds: 0)
        default:
            // A 4xx is the request's fault, not the account's (unless its words say "rate
            // limit"); a 5xx is the provider's, and counts against the account.
            let clientError = (400..<500).contains(response.status)
            let verdict = report(leaseID, clientError ? "ok" : "error", status: response.status, excerpt: response.text)
            if verdict["outcome"] == "rate_limited" {
                throw .postponed("A \(provider) account is rate limited; another account will take the job.", afterSeconds: 0)
            }
            throw clientError ? .failed("Provider \(provider) refused the request (HTTP \(response.status)).", retryable: false)
                              : .failed("Provider \(provider) failed (HTTP \(response.status)).", retryable: true)
        }
    }

    @discardableResult
    private func report(_ lease: String, _ outcome: String, status: Int?, excerpt: String?, retryAfter: Double? = nil) -> JSONValue {
        var input: JSONValue = ["lease_id": .string(lease), "outcome": .string(outcome)]
        if let status { input["status_code"] = .number(Double(status)) }
        if let excerpt { input["body_excerpt"] = .string(String(excerpt.prefix(300))) }
        if let retryAfter { input["retry_after_s"] = .number(retryAfter) }
        do {
            return try ctx.call("stealth.report", input)
        } catch {
            ctx.log.warning("could not report a \(provider) lease's outcome: \(error)")
            return .null
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

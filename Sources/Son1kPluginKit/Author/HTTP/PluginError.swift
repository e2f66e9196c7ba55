/// An error with an HTTP meaning. Thrown from a route handler it becomes the response
/// (`application/problem+json` with this status, code and detail); thrown from a hook
/// handler it vetoes the event, and the publisher's request fails with it.
///
/// Any other error thrown from a handler becomes a 500 naming the plugin.
///
/// ```swift
/// guard remaining > 0 else {
///     throw PluginError(status: 429, code: "daily_limit_reached", detail: "3 of 3 songs used today.")
/// }
/// ```
public struct PluginError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    /// The HTTP status the client receives (4xx for its mistakes).
    public var status: Int
    /// A stable, machine-readable identifier (`snake_case`).
    public var code: String
    /// A sentence for a human.
    public var detail: String
    /// Extra response headers, e.g. `Retry-After`.
    public var headers: [String: String]

    /// An error answered with `status`, a stable `code` and a human `detail`; `headers` go with it (`Retry-After`).
    public init(status: Int, code: String, detail: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    /// 400: the request cannot be understood.
    public static func badRequest(_ detail: String, code: String = "bad_request") -> PluginError {
        .init(status: 400, code: code, detail: detail)
    }
    /// 404: no such resource, or one the caller may not know exists.
    public static func notFound(_ detail: String, code: String = "not_found") -> PluginError {
        .init(status: 404, code: code, detail: detail)
    }
    /// 403: the caller may not do this.
    public static func forbidden(_ detail: String, code: String = "forbidden") -> PluginError {
        .init(status: 403, code: code, detail: detail)
    }
    /// 409: the resource's state does not allow it (a duplicate, already done).
    public static func conflict(_ detail: String, code: String = "conflict") -> PluginError {
        .init(status: 409, code: code, detail: detail)
    }
    /// A request that is well-formed but breaks a rule; `field` names the offending member.
    public static func invalid(_ field: String, _ detail: String) -> PluginError {
        .init(status: 422, code: "validation_failed", detail: "\(field): \(detail)")
    }

    enum CodingKeys: String, CodingKey { case status, code, detail, headers }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decodeIfPresent(Int.self, forKey: .status) ?? 500
        code = try c.decodeIfPresent(String.self, forKey: .code) ?? "error"
        detail = try c.decodeIfPresent(String.self, forKey: .detail) ?? "The operation failed."
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
    }
}

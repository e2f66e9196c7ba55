import Son1kPluginKit

/// A plugin's answer to a ``TestHost`` request.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(problem: PluginError) {
        let response = Response.problem(problem)
        self.init(status: response.status, headers: response.headers, body: response.body)
    }

    /// The first header named `name` (any case).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body decoded as `T` with the SDK's codec (snake_case keys, ISO 8601 dates).
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValueDecoder.decode(T.self, from: JSONValue.parse(body))
    }

    /// The problem of an error answer (`code`, `detail`), or nil when the body is not one.
    public var problem: PluginError? {
        guard status >= 400, let value = try? JSONValue.parse(body), let code = value["code"].string else { return nil }
        return PluginError(status: status, code: code, detail: value["detail"].string ?? "")
    }

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

extension Principal {
    /// A signed-in user.
    public static func user(_ id: String) -> Principal { Principal(id: id, role: "user", kind: .user) }
    /// A signed-in administrator.
    public static func admin(_ id: String = "admin") -> Principal { Principal(id: id, role: "admin", kind: .user) }
    /// A worker token without a user.
    public static func worker(_ id: String = "worker:test") -> Principal { Principal(id: id, role: "worker", kind: .token) }
}

import Foundation

/// A plugin's answer to a request: status, headers and raw body bytes.
///
/// ```swift
/// r.post("/api/hello/wave", auth: .user, summary: "Wave, or say why not") { req, ctx in
///     guard req.query("quiet") == nil else { return .noContent }
///     return try .json(["message": "Hello"], status: 201)
/// }
/// ```
///
/// Most routes need none of this: declare `returns:` and answer a value (``Reply``).
public struct Response: Sendable {
    /// The HTTP status.
    public var status: Int
    /// Headers in order; a name may repeat.
    public var headers: [(String, String)]
    /// The raw body.
    public var body: [UInt8]

    /// A response with these parts.
    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// JSON-encode `value` (snake_case keys) with `Content-Type: application/json`.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: try ResponseEncoder.encode(value))
    }

    /// 204 with no body.
    public static var noContent: Response { Response(status: 204) }

    /// Plain UTF-8 text.
    public static func text(_ text: String, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// Raw bytes with a content type, e.g. audio.
    public static func bytes(_ bytes: [UInt8], contentType: String, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", contentType)], body: bytes)
    }
}

/// How responses are encoded: snake_case keys, ISO 8601 dates (see ``JSONValueEncoder``).
enum ResponseEncoder {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONValueEncoder.encode(value).bytes
    }
}

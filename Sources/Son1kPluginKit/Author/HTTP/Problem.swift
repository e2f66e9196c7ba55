import Foundation

/// The `application/problem+json` body (RFC 9457) every error response uses, from the
/// kernel and from plugins alike: `{type, title, status, detail, code}`.
package enum Problem {
    package static let contentType = "application/problem+json"

    package static func body(status: Int, code: String, detail: String) -> [UInt8] {
        let object: JSONValue = [
            "type": .string("https://son1k.dev/problems/\(code)"),
            "title": .string(title(for: status)),
            "status": .number(Double(status)),
            "detail": .string(detail),
            "code": .string(code),
        ]
        return object.bytes
    }

    package static func body(_ error: PluginError) -> [UInt8] { body(status: error.status, code: error.code, detail: error.detail) }

    /// The standard reason phrase of a status code.
    package static func title(for status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 416: return "Range Not Satisfiable"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return status < 500 ? "Client Error" : "Server Error"
        }
    }
}

extension Response {
    /// A problem+json response for an error.
    public static func problem(_ error: PluginError) -> Response {
        var headers: [(String, String)] = [("Content-Type", Problem.contentType)]
        headers.append(contentsOf: error.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return Response(status: error.status, headers: headers, body: Problem.body(error))
    }
}

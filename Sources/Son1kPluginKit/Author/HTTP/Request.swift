import Foundation
import Synchronization

/// An HTTP request routed to a plugin. The body is the raw bytes the client sent.
public struct Request: Sendable {
    /// `GET`, `POST`, … in capitals.
    public var method: String
    /// The decoded path, without the query.
    public var path: String
    /// The raw query string without `?`.
    public var rawQuery: String
    /// The route's `{name}` parameters.
    public var params: [String: String]
    /// Header names are lower-cased.
    public var headers: [String: String]
    /// `nil` on a public route called without credentials.
    public var principal: Principal?
    /// Echoed as `X-Request-Id`; put it in log lines to correlate them.
    public var requestID: String
    /// The raw body, as the client sent it.
    public var body: [UInt8]
    /// Set by the SDK on routes declared `stream: true` (see ``startStream(status:headers:)``).
    package var streamWriter: ResponseStreamWriter?

    /// A request as the kernel hands it over (tests build their own).
    public init(method: String, path: String, rawQuery: String = "", params: [String: String] = [:],
                headers: [String: String] = [:], principal: Principal? = nil, requestID: String = "", body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.params = params
        self.headers = headers
        self.principal = principal
        self.requestID = requestID
        self.body = body
    }

    /// A route parameter; routes only match when every `{param}` is present, so this is
    /// never empty for a declared parameter.
    public func param(_ name: String) -> String { params[name] ?? "" }

    /// The first value of a query parameter, percent-decoded.
    public func query(_ name: String) -> String? { queryItems[name] }

    /// Every query parameter (first value wins), percent-decoded.
    public var queryItems: [String: String] {
        var items: [String: String] = [:]
        for pair in rawQuery.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = Self.decodeComponent(parts[0])
            let value = parts.count > 1 ? Self.decodeComponent(parts[1]) : ""
            if items[key] == nil { items[key] = value }
        }
        return items
    }

    static func decodeComponent(_ s: Substring) -> String {
        let plusDecoded = s.replacingOccurrences(of: "+", with: " ")
        return plusDecoded.removingPercentEncoding ?? plusDecoded
    }

    /// The signed-in principal; throws 401 when there is none (only possible on public routes).
    public func requirePrincipal() throws -> Principal {
        guard let principal else {
            throw PluginError(status: 401, code: "unauthenticated", detail: "Sign in to use this endpoint.")
        }
        return principal
    }

    /// Decode the JSON body. Malformed JSON throws 400 (`malformed_json`); a missing or
    /// mistyped member throws 422 (`validation_failed`) naming the field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try BodyDecoder.decode(T.self, from: body)
    }

    /// The `limit` of a list page from the query: `fallback` when absent, 422 unless it is
    /// an integer from 1 to `max`.
    public func pageLimit(default fallback: Int = 20, max: Int = 100) throws -> Int {
        guard let raw = query("limit") else { return Swift.min(fallback, max) }
        guard let n = Int(raw), (1...max).contains(n) else { throw PluginError.invalid("limit", "must be an integer from 1 to \(max).") }
        return n
    }

    /// The body as a JSON value (400 when it is not JSON).
    public var json: JSONValue {
        get throws { try BodyDecoder.decode(JSONValue.self, from: body) }
    }
}

/// Turns a JSON body into a value with errors a client can act on.
package enum BodyDecoder {
    package static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws -> T {
        // The syntax check uses the SDK's own parser: JSONSerialization cost more than the
        // decode. A JSONValue is that parse itself, without a trip through JSONDecoder.
        guard let parsed = try? JSONValue.parse(body) else {
            throw PluginError(status: 400, code: "malformed_json", detail: "The request body is not valid JSON.")
        }
        do {
            return try JSONValueDecoder.decode(T.self, from: parsed)
        } catch let error as DecodingError {
            throw PluginError(status: 422, code: "validation_failed", detail: describe(error))
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
            return p.isEmpty ? "body" : p.replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return "\(path(ctx.codingPath + [key])): is required."
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(jsonTypeName(type))."
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(jsonTypeName(type)), found null."
        case .dataCorrupted(let ctx):
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "The request body does not match the expected shape."
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}

/// `maxPerUser` → `max_per_user`, `userID` → `user_id`: the JSON spelling of a Swift
/// property name, word for word as Foundation's `.convertToSnakeCase` splits it (a run of
/// capitals is one word), so encoding, decoding and config schemas agree.
package func snakeCase(_ name: String) -> String {
    // Every field of every value coded goes through here, so the answer is remembered: Swift
    // names are few, and finding words by Unicode properties cost more than the rest of the
    // decoding. A name without an ASCII capital needs neither.
    if !name.utf8.contains(where: { $0 >= 65 && $0 <= 90 || $0 >= 128 }) { return name }
    if let known = snakeCaseCache.withLock({ $0[name] }) { return known }
    let converted = convertToSnakeCase(name)
    snakeCaseCache.withLock { cache in
        if cache.count >= 20_000 { cache.removeAll(keepingCapacity: true) }
        cache[name] = converted
    }
    return converted
}

private let snakeCaseCache = Mutex<[String: String]>([:])

private func convertToSnakeCase(_ name: String) -> String {
    guard name.contains(where: \.isUppercase) else { return name }
    let chars = Array(name)
    var words: [ArraySlice<Character>] = []
    var wordStart = 0
    var i = 1
    while i < chars.count, let upper = chars[i...].firstIndex(where: \.isUppercase) {
        words.append(chars[wordStart..<upper])
        guard let lower = chars[upper...].firstIndex(where: \.isLowercase) else {
            wordStart = upper
            break
        }
        if lower == upper + 1 {
            wordStart = upper
        } else {
            words.append(chars[upper..<(lower - 1)])
            wordStart = lower - 1
        }
        i = lower + 1
    }
    words.append(chars[wordStart...])
    return words.filter { !$0.isEmpty }.map { String($0).lowercased() }.joined(separator: "_")
}

import Foundation

/// JSON Schemas derived from Swift types, as the kernel shows them in `/openapi.json` and
/// checks requests against.
///
/// The schema comes from the type's own `init(from:)`: the SDK decodes one sample value with a
/// decoder that records what the type asks for. A property read with `decode` is required, one
/// read with `decodeIfPresent` (every `Optional` property, when the conformance is synthesized)
/// is optional; arrays, sets and `[String: T]` dictionaries describe their elements; enums
/// with `String` or `Int` raw values that are `CaseIterable` list their cases; `Date` is a
/// `date-time` string and ``JSONValue`` is any JSON. Names are the wire's: snake_case.
///
/// ```swift
/// struct Song: Codable {
///     enum Quality: String, Codable, CaseIterable { case standard, high }
///     var title: String
///     var quality: Quality
///     var durationS: Double?
/// }
/// let schema = JSONSchema.of(Song.self, for: .response)
/// // {"type": "object", "additionalProperties": false, "required": ["title", "quality"],
/// //  "properties": {"title": {"type": "string"}, "quality": {"type": "string", "enum": ["standard", "high"]},
/// //                 "duration_s": {"type": ["number", "null"]}}}
/// ```
///
/// Deriving is done once, at registration; it never runs on a request.
public enum JSONSchema {
    /// Whether the schema describes what clients send or what they receive.
    public enum Use: Sendable {
        /// Unknown properties are tolerated, as the decoder ignores them.
        case request
        /// Objects allow no properties beyond the type's (`additionalProperties: false`), so a
        /// client can rely on the documented shape.
        case response
    }

    /// The JSON Schema of `type`.
    public static func of<T: Decodable>(_ type: T.Type, for use: Use = .request) -> JSONValue {
        derive(T.self, for: use).schema
    }

    /// ``derive(_:for:)`` for a type known only at run time.
    static func deriveErased(_ type: any Decodable.Type, for use: Use) -> (schema: JSONValue, problems: [String]) {
        func open<T: Decodable>(_ type: T.Type) -> (schema: JSONValue, problems: [String]) { derive(type, for: use) }
        return open(type)
    }

    /// The schema, and what is wrong with the type's ``SchemaRules`` (fields it does not have).
    static func derive<T: Decodable>(_ type: T.Type, for use: Use) -> (schema: JSONValue, problems: [String]) {
        let recorder = SchemaRecorder(use: use)
        let schema = recorder.record(T.self).schema
        return (schema, recorder.problems)
    }
}

/// A rule about one field that a derived schema cannot read from the type: a range, a length,
/// the allowed values, a pattern, a description, or that the field is a secret.
///
/// A plugin's config states them in ``PluginConfig/constraints``; a request or response type
/// in ``SchemaRules/schemaRules``. Keys are the field's wire name (snake_case). They document
/// the contract in `/openapi.json` and the config schema; the kernel checks a config against
/// them, and a route's own code enforces them for requests. A rule naming a field the type does
/// not have refuses the plugin at load, naming the field.
///
/// ```swift
/// struct NewGreeting: Codable, SchemaRules {
///     var name: String
///     static let schemaRules: [FieldRule] = [.length("name", 1...100), .describe("name", "Who to greet.")]
/// }
/// ```
public enum FieldRule: Sendable {
    /// An integer or number field must lie in the range.
    case range(String, ClosedRange<Double>)
    /// A string field must be one of these values.
    case oneOf(String, [String])
    /// A field holding a credential: readable through `ctx.secret(_:)`, never shown.
    case secret(String)
    /// Describe a field in the schema (shown by `son1k plugins check` and the docs).
    case describe(String, String)
    /// A string field's length in characters.
    case length(String, ClosedRange<Int>)
    /// A string field must match the regular expression.
    case pattern(String, String)

    /// A number between the bounds of an integer range, inclusive.
    public static func range(_ key: String, _ range: ClosedRange<Int>) -> FieldRule {
        .range(key, Double(range.lowerBound)...Double(range.upperBound))
    }

    /// The field the rule refines (its wire name).
    var key: String {
        switch self {
        case .range(let key, _), .oneOf(let key, _), .secret(let key), .describe(let key, _), .length(let key, _), .pattern(let key, _):
            return key
        }
    }

    /// Write `rules` into an object schema's `properties`; rules naming no property are skipped
    /// (``unknownFields(_:in:of:)`` reports them).
    static func apply(_ rules: [FieldRule], to properties: inout [String: JSONValue]) {
        for rule in rules where properties[rule.key] != nil {
            switch rule {
            case .range(let key, let r):
                properties[key]?["minimum"] = .number(r.lowerBound)
                properties[key]?["maximum"] = .number(r.upperBound)
            case .oneOf(let key, let values):
                properties[key]?["enum"] = .array(values.map { .string($0) })
            case .secret(let key):
                properties[key]?["x-secret"] = true
                properties[key]?["writeOnly"] = true
            case .describe(let key, let text):
                properties[key]?["description"] = .string(text)
            case .length(let key, let r):
                properties[key]?["minLength"] = .integer(Int64(r.lowerBound))
                properties[key]?["maxLength"] = .integer(Int64(r.upperBound))
            case .pattern(let key, let pattern):
                properties[key]?["pattern"] = .string(pattern)
            }
        }
    }

    /// One sentence per rule that names a field `schema` does not have.
    static func unknownFields(_ rules: [FieldRule], in schema: JSONValue, of owner: String) -> [String] {
        let fields = Set((schema["properties"].object ?? [:]).keys)
        return rules.map(\.key).filter { !fields.contains($0) }.map {
            "a rule of \(owner) names '\($0)', which is not one of its fields (fields: \(fields.sorted().joined(separator: ", ")))"
        }
    }
}

/// A request or response type with rules its derived schema cannot read from the type.
public protocol SchemaRules {
    static var schemaRules: [FieldRule] { get }
}

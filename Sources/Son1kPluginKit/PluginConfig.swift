import Foundation

/// A plugin's configuration: a `Codable` struct whose default value (`init()`) holds the
/// defaults. The kernel validates the deployment's `config` block against the JSON Schema
/// derived from it (property names in snake_case) before the plugin is initialised, and
/// the plugin receives the defaults overlaid with what the operator wrote.
///
/// ```swift
/// struct Config: PluginConfig {
///     var greeting = "Hello"
///     var maxPerHour = 10
///     var apiKey = ""
///     static let constraints: [ConfigConstraint] = [.range("max_per_hour", 1...1000), .secret("api_key")]
/// }
/// ```
public protocol PluginConfig: Codable, Sendable {
    init()
    /// Refinements the derived schema cannot know: ranges, allowed values, secrets.
    static var constraints: [ConfigConstraint] { get }
}

extension PluginConfig {
    public static var constraints: [ConfigConstraint] { [] }
}

/// A configuration for plugins that take none.
public struct NoConfig: PluginConfig {
    public init() {}
}

/// A refinement of a derived config schema.
public enum ConfigConstraint: Sendable {
    /// An integer or number field must lie in the range.
    case range(String, ClosedRange<Double>)
    /// A string field must be one of these values.
    case oneOf(String, [String])
    /// A field holding a credential: readable through `ctx.secret(_:)`, never shown.
    case secret(String)
    /// Describe a field in the schema (shown by `son1k plugins check` and the docs).
    case describe(String, String)

    public static func range(_ key: String, _ range: ClosedRange<Int>) -> ConfigConstraint {
        .range(key, Double(range.lowerBound)...Double(range.upperBound))
    }

    /// The field the constraint refines (its snake_case name).
    var key: String {
        switch self {
        case .range(let key, _), .oneOf(let key, _), .secret(let key), .describe(let key, _): return key
        }
    }
}

enum ConfigCoding {
    /// The defaults overlaid with the operator's values, decoded.
    static func decode<C: PluginConfig>(_ type: C.Type, from json: [UInt8]) throws -> C {
        var merged = try JSONValueEncoder.encode(C())
        if !json.isEmpty, case .object(let given) = try JSONValue.parse(json) {
            for (k, v) in given { merged[k] = v }
        }
        return try JSONValueDecoder.decode(C.self, from: merged)
    }

    /// Constraints that name no field of `C` (a typo would otherwise be ignored).
    static func problems<C: PluginConfig>(_ type: C.Type) -> [String] {
        let fields = Set((JSONSchema.of(C.self)["properties"].object ?? [:]).keys)
        return C.constraints.map(\.key).filter { !fields.contains($0) }.map {
            "the config constraint names '\($0)', which is not a field of the config (fields: \(fields.sorted().joined(separator: ", ")))"
        }
    }

    /// The JSON Schema of `C`: derived from the type (``JSONSchema``), with each field's
    /// default from `C()` and the constraints applied. Nothing is required at the top (every
    /// field has its default) and unknown fields are refused, so a mistyped setting is caught.
    static func schema<C: PluginConfig>(_ type: C.Type) -> JSONValue {
        let defaults = (try? JSONValueEncoder.encode(C())) ?? [:]
        var properties = JSONSchema.of(C.self)["properties"].object ?? [:]
        for (key, value) in defaults.object ?? [:] where properties[key] != nil { properties[key]?["default"] = value }
        for constraint in C.constraints {
            switch constraint {
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
            }
        }
        return ["type": "object", "properties": .object(properties), "additionalProperties": false]
    }
}

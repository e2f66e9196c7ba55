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
    /// None: the derived schema as it is.
    public static var constraints: [ConfigConstraint] { [] }
}

/// A configuration for plugins that take none.
public struct NoConfig: PluginConfig {
    /// No configuration.
    public init() {}
}

/// A config's refinements are the rules any derived schema takes (see ``FieldRule``).
public typealias ConfigConstraint = FieldRule

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
        FieldRule.unknownFields(C.constraints, in: JSONSchema.of(C.self), of: "the config")
    }

    /// The JSON Schema of `C`: derived from the type (``JSONSchema``), with each field's
    /// default from `C()` and the constraints applied. Nothing is required at the top (every
    /// field has its default) and unknown fields are refused, so a mistyped setting is caught.
    static func schema<C: PluginConfig>(_ type: C.Type) -> JSONValue {
        let defaults = (try? JSONValueEncoder.encode(C())) ?? [:]
        var properties = JSONSchema.of(C.self)["properties"].object ?? [:]
        for (key, value) in defaults.object ?? [:] where properties[key] != nil { properties[key]?["default"] = value }
        FieldRule.apply(C.constraints, to: &properties)
        return ["type": "object", "properties": .object(properties), "additionalProperties": false]
    }
}

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
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    /// The defaults overlaid with the operator's values, decoded.
    static func decode<C: PluginConfig>(_ type: C.Type, from json: [UInt8]) throws -> C {
        var merged = try JSONValue.parse(encoder().encode(C()))
        if !json.isEmpty, case .object(let given) = try JSONValue.parse(json) {
            for (k, v) in given { merged[k] = v }
        }
        return try decoder().decode(C.self, from: merged.encoded())
    }

    /// Constraints that name no field of `C` (a typo would otherwise be ignored).
    static func problems<C: PluginConfig>(_ type: C.Type) -> [String] {
        let fields = Set(Mirror(reflecting: C()).children.compactMap { $0.label }.map { snakeCase($0.hasPrefix("_") ? String($0.dropFirst()) : $0) })
        return C.constraints.map(\.key).filter { !fields.contains($0) }.map {
            "the config constraint names '\($0)', which is not a field of the config (fields: \(fields.sorted().joined(separator: ", ")))"
        }
    }

    /// The JSON Schema of `C`, derived from its default value.
    static func schema<C: PluginConfig>(_ type: C.Type) -> JSONValue {
        let defaults = (try? JSONValue.parse(encoder().encode(C()))) ?? [:]
        var properties: [String: JSONValue] = [:]
        for child in Mirror(reflecting: C()).children {
            guard let label = child.label else { continue }
            let key = snakeCase(label.hasPrefix("_") ? String(label.dropFirst()) : label)
            var prop = schema(of: child.value)
            prop["default"] = defaults[key]
            properties[key] = prop
        }
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

    static func schema(of value: Any) -> JSONValue {
        switch value {
        case is Bool: return ["type": "boolean"]
        case is Int, is Int64, is Int32, is UInt, is UInt64, is UInt32: return ["type": "integer"]
        case is Double, is Float: return ["type": "number"]
        case is String: return ["type": "string"]
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            if let wrapped = mirror.children.first?.value {
                var s = schema(of: wrapped)
                s["type"] = .array([s["type"], "null"])
                return s
            }
            return [:]
        case .collection, .set:
            let itemType = String(describing: type(of: value))
            var items: JSONValue = [:]
            if let first = mirror.children.first?.value { items = schema(of: first) }
            else if itemType.contains("<String>") { items = ["type": "string"] }
            else if itemType.contains("<Int>") { items = ["type": "integer"] }
            else if itemType.contains("<Double>") { items = ["type": "number"] }
            return ["type": "array", "items": items]
        case .dictionary:
            return ["type": "object"]
        case .struct, .class:
            var props: [String: JSONValue] = [:]
            for child in mirror.children {
                guard let label = child.label else { continue }
                props[snakeCase(label)] = schema(of: child.value)
            }
            return ["type": "object", "properties": .object(props)]
        default:
            return [:]
        }
    }
}

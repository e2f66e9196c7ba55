import Foundation
import Son1kPluginKit

/// Validates JSON against the subset of JSON Schema plugins use for their config:
/// `type`, `properties`, `required`, `additionalProperties` (false, or the schema of every other
/// member), `enum`, `minimum`,
/// `maximum`, `minLength`, `maxLength`, `pattern`, `items`.
///
/// Each violation names the field (`max_per_hour`, `tiers[2].price`) and the reason.
public enum SchemaValidator {
    public static func validate(_ value: JSONValue, against schema: JSONValue, at path: String = "") -> [String] {
        var errors: [String] = []
        check(value, schema, path, &errors)
        return errors
    }

    static func check(_ value: JSONValue, _ schema: JSONValue, _ path: String, _ errors: inout [String]) {
        let field = path.isEmpty ? "config" : path
        if let types = allowedTypes(schema), !types.contains(where: { matches(value, $0) }) {
            errors.append("\(field): expected \(types.joined(separator: " or ")), got \(typeName(value))")
            return
        }
        if let allowed = schema["enum"].array, !allowed.contains(value) {
            errors.append("\(field): must be one of \(allowed.map(\.jsonString).joined(separator: ", "))")
        }
        if let n = value.double {
            if let min = schema["minimum"].double, n < min { errors.append("\(field): must be at least \(format(min))") }
            if let max = schema["maximum"].double, n > max { errors.append("\(field): must be at most \(format(max))") }
        }
        if let s = value.string {
            if let min = schema["minLength"].int, s.count < min { errors.append("\(field): must be at least \(min) characters") }
            if let max = schema["maxLength"].int, s.count > max { errors.append("\(field): must be at most \(max) characters") }
            if let pattern = schema["pattern"].string, s.range(of: pattern, options: .regularExpression) == nil {
                errors.append("\(field): must match \(pattern)")
            }
        }
        if let items = value.array, !schema["items"].isNull {
            for (i, item) in items.enumerated() { check(item, schema["items"], "\(path)[\(i)]", &errors) }
        }
        if let object = value.object {
            let properties = schema["properties"].object ?? [:]
            for name in schema["required"].array?.compactMap(\.string) ?? [] where object[name] == nil {
                errors.append("\(join(path, name)): is required")
            }
            for (name, member) in object.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[name] {
                    check(member, sub, join(path, name), &errors)
                } else if case .object(let values) = schema["additionalProperties"], !values.isEmpty {
                    check(member, schema["additionalProperties"], join(path, name), &errors)
                } else if schema["additionalProperties"] == .bool(false) {
                    errors.append("\(join(path, name)): is not a known setting (known: \(properties.keys.sorted().joined(separator: ", ")))")
                }
            }
        }
    }

    static func allowedTypes(_ schema: JSONValue) -> [String]? {
        if let t = schema["type"].string { return [t] }
        return schema["type"].array?.compactMap(\.string)
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .integer), ("integer", .integer): return true
        case ("integer", .number(let n)): return n.rounded() == n
        default: return false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number, .integer: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    static func format(_ n: Double) -> String { n.rounded() == n ? String(Int(n)) : String(n) }

    /// The schema's defaults overlaid with `value` (objects only, one level deep per property).
    public static func applyDefaults(_ value: JSONValue, schema: JSONValue) -> JSONValue {
        guard case .object(var object) = value.isNull ? JSONValue.object([:]) : value else { return value }
        for (name, sub) in schema["properties"].object ?? [:] where object[name] == nil && !sub["default"].isNull {
            object[name] = sub["default"]
        }
        return .object(object)
    }

    /// The names of the fields the schema marks as secrets (`"x-secret": true`).
    public static func secretFields(_ schema: JSONValue) -> Set<String> {
        Set((schema["properties"].object ?? [:]).filter { $0.value["x-secret"] == .bool(true) }.map(\.key))
    }
}

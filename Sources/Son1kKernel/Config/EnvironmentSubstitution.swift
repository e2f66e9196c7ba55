import Son1kPluginKit

/// Replaces `${NAME}` and `${NAME:-default}` in every string of a JSON document with values
/// from the environment, so one plugins.json serves every deployment.
///
/// A string that is exactly one `${…}` expression whose value reads as a JSON number or
/// boolean becomes that number or boolean (`"port": "${PORT:-8080}"` is the integer 8080).
/// An unset variable without a default becomes the empty string.
public struct EnvironmentSubstitution: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    public func apply(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return substitute(s)
        case .array(let a): return .array(a.map(apply))
        case .object(let o): return .object(o.mapValues(apply))
        default: return value
        }
    }

    func substitute(_ text: String) -> JSONValue {
        guard text.contains("${") else { return .string(text) }
        var out = ""
        var rest = Substring(text)
        var expressions = 0
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            out += rest[..<start.lowerBound]
            let expr = rest[start.upperBound..<end]
            out += resolve(expr)
            expressions += 1
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        let wholeValue = expressions == 1 && text.hasPrefix("${") && text.hasSuffix("}")
        if wholeValue {
            if out == "true" { return .bool(true) }
            if out == "false" { return .bool(false) }
            if let n = Double(out), !out.isEmpty, out.first!.isNumber || out.first == "-" { return .number(n) }
        }
        return .string(out)
    }

    func resolve(_ expr: Substring) -> String {
        if let sep = expr.range(of: ":-") {
            let name = String(expr[..<sep.lowerBound])
            let value = environment[name] ?? ""
            return value.isEmpty ? String(expr[sep.upperBound...]) : value
        }
        return environment[String(expr)] ?? ""
    }
}

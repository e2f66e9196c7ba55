import CSon1kABI
import Foundation

/// A value bound to a `?` placeholder.
public enum SQLValue: Sendable, Hashable, Encodable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    case null, int(Int64), double(Double), text(String), bool(Bool)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }

    /// Bind a JSON value (e.g. a column of another row); arrays and objects are bound as JSON text.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .number(let n): self = n.rounded() == n && abs(n) < 9.0e18 ? .int(Int64(n)) : .double(n)
        case .string(let s): self = .text(s)
        case .array, .object: self = .text(json.jsonString)
        }
    }

    /// The JSON the host reads for a parameter.
    var json: JSONValue {
        switch self {
        case .null: .null
        // An integer stays one: as a double, 64-bit values past 2^53 would change.
        case .int(let i): .integer(i)
        case .double(let d): .number(d)
        case .text(let s): .string(s)
        case .bool(let b): .bool(b)
        }
    }

    /// Text, or NULL for nil.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// An integer, or NULL for nil.
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .text(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        }
    }
}

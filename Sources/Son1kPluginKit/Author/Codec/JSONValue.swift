import Foundation

/// A JSON value of any shape: database rows read without a row type, and the free-form
/// fields a type declares as `JSONValue` (an engine's result details, a relay's payload).
///
/// ```swift
/// let count = try ctx.db.query("SELECT plays FROM plays_counts WHERE song_id = ?", [.text(id)]).first?["plays"].int ?? 0
/// ```
///
/// Integers that fit 64 bits are kept exactly (`.integer`), so ids and byte counts above 2^53
/// survive a round trip; other numbers are `.number`. The two compare (and hash) by value:
/// `.integer(3) == .number(3.0)`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    /// A number with a fraction or an exponent, or too large for 64 bits.
    case number(Double)
    /// An integer, exactly.
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The member `key` of an object, or `.null`.
    public subscript(key: String) -> JSONValue {
        get { if case .object(let o) = self { return o[key] ?? .null }; return .null }
        set {
            var o: [String: JSONValue] = [:]
            if case .object(let existing) = self { o = existing }
            o[key] = newValue
            self = .object(o)
        }
    }

    /// The element at `index` of an array, or `.null`.
    public subscript(index: Int) -> JSONValue {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return .null
    }

    /// The string, or nil for any other kind of value.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The number (an integer widened), or nil for any other kind of value.
    public var double: Double? {
        switch self {
        case .number(let n): return n
        case .integer(let i): return Double(i)
        default: return nil
        }
    }
    /// The value as an integer when it is one (exactly: `2.5` is not).
    public var int: Int? { int64.map(Int.init) }
    /// The number as an exact 64-bit integer, or nil when it is not a whole number in range.
    public var int64: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let n) where n.rounded() == n && abs(n) < 9.0e18: return Int64(n)
        default: return nil
        }
    }
    /// The boolean, or nil for any other kind of value.
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, or nil when this is not an array.
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The members, or nil when this is not an object.
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    /// True for `null` (and for a member read from an object that lacks it).
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Parse UTF-8 JSON bytes.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws -> JSONValue {
        if let result = try bytes.withContiguousStorageIfAvailable({ try JSONBytes.parse($0) }) { return result }
        return try Array(bytes).withUnsafeBufferPointer { try JSONBytes.parse($0) }
    }

    /// Convert any `Encodable` into a JSON value (property names in snake_case).
    public static func from<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONValueEncoder.encode(value)
    }

    /// Decode this value into a `Decodable` type.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValueDecoder.decode(T.self, from: self)
    }

    /// UTF-8 JSON bytes (object keys sorted, so the output is stable).
    public func encoded() -> Data { Data(bytes) }

    /// UTF-8 JSON bytes as an array (object keys sorted).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONBytes.write(self, into: &out)
        return out
    }

    /// Append the UTF-8 JSON to `out` (object keys sorted).
    public func write(into out: inout [UInt8]) { JSONBytes.write(self, into: &out) }

    /// UTF-8 JSON text.
    public var jsonString: String { String(decoding: bytes, as: UTF8.self) }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(Int64(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Numbers compare by value, whichever case holds them.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.integer(let x), .number(let y)), (.number(let y), .integer(let x)): return Double(x) == y && y.rounded() == y && abs(y) < 9.3e18 && Int64(y) == x
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .integer(let i): hasher.combine(2); hasher.combine(i)
        case .number(let n):
            if let i = int64 { hasher.combine(2); hasher.combine(i) } else { hasher.combine(3); hasher.combine(n) }
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .array(let a): hasher.combine(5); hasher.combine(a)
        case .object(let o): hasher.combine(6); hasher.combine(o)
        }
    }
}

import Foundation

/// Decodes `Decodable` values straight from ``JSONValue``: the other half of
/// ``JSONValueEncoder``, so a value survives a round trip. Property names are looked up in
/// snake_case (`userID` reads `user_id`, exactly as the encoder wrote it), dictionary keys
/// are taken as they are, dates are ISO 8601 (fractional seconds optional), data is base64,
/// and integers are exact: an `Int64` above 2^53 arrives unchanged, `2.5` is not an `Int`.
///
/// ```swift
/// struct Job: Codable { var userID: String; var attempts: Int; var createdAt: Date }
/// let job = try JSONValueDecoder.decode(Job.self, from: ["user_id": "usr_1", "attempts": 2,
///                                                         "created_at": "2026-11-22T09:30:00.250Z"])
/// ```
///
/// Errors are `DecodingError`s with the coding path, as Foundation's decoder throws them.
public enum JSONValueDecoder {
    /// Decode `T` from a parsed value; a missing or mistyped member throws `DecodingError` naming it.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try decodeValue(T.self, from: value, path: [])
    }

    static func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey]) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == Date.self {
            guard case .string(let text) = value, let date = Date(iso8601: text) else {
                throw DecodingError.typeMismatch(Date.self, .init(codingPath: path, debugDescription: "expected an ISO 8601 date-time text"))
            }
            return date as! T
        }
        if T.self == Data.self {
            guard case .string(let text) = value, let data = Data(base64Encoded: text) else {
                throw DecodingError.typeMismatch(Data.self, .init(codingPath: path, debugDescription: "expected base64 text"))
            }
            return data as! T
        }
        if T.self == URL.self {
            guard case .string(let text) = value, let url = URL(string: text) else {
                throw DecodingError.typeMismatch(URL.self, .init(codingPath: path, debugDescription: "expected a URL"))
            }
            return url as! T
        }
        if let dictionary = T.self as? any DecodableStringDictionary.Type {
            guard case .object(let members) = value else {
                throw DecodingError.typeMismatch(T.self, .init(codingPath: path, debugDescription: "expected an object"))
            }
            return try dictionary.decodeMembers(members, path: path) as! T
        }
        return try T(from: ValueDecoder(value: value, codingPath: path))
    }

    struct ValueDecoder: Decoder {
        let value: JSONValue
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, value, codingPath) }
            return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard case .array(let items) = value else { throw mismatch([JSONValue].self, value, codingPath) }
            return Unkeyed(items: items, codingPath: codingPath)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]
        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

        func member(_ key: Key) -> JSONValue? { members[snakeCase(key.stringValue)] }
        func contains(_ key: Key) -> Bool { member(key) != nil }
        func decodeNil(forKey key: Key) throws -> Bool { (member(key) ?? .null).isNull }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let value = member(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(snakeCase(key.stringValue))"))
            }
            if value.isNull, !(T.self is any ExpressibleByNilLiteral.Type), T.self != JSONValue.self {
                throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath + [key], debugDescription: "found null"))
            }
            return try decodeValue(T.self, from: value, path: codingPath + [key])
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = member(key), !value.isNull || T.self == JSONValue.self else { return nil }
            return try decodeValue(T.self, from: value, path: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: member(key) ?? .null, codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: member(key) ?? .null, codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(members), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: member(key) ?? .null, codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        mutating func next() throws -> JSONValue {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "the array has no more items"))
            }
            defer { currentIndex += 1 }
            return items[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex].isNull else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let index = IndexKey(currentIndex)
            return try decodeValue(T.self, from: next(), path: codingPath + [index])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let index = IndexKey(currentIndex)
            return try ValueDecoder(value: next(), codingPath: codingPath + [index]).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let index = IndexKey(currentIndex)
            return try ValueDecoder(value: next(), codingPath: codingPath + [index]).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let index = IndexKey(currentIndex)
            return ValueDecoder(value: try next(), codingPath: codingPath + [index])
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value.isNull }

        func decode(_ type: Bool.Type) throws -> Bool {
            guard case .bool(let b) = value else { throw mismatch(type, value, codingPath) }
            return b
        }

        func decode(_ type: String.Type) throws -> String {
            guard case .string(let s) = value else { throw mismatch(type, value, codingPath) }
            return s
        }

        func decode(_ type: Double.Type) throws -> Double {
            guard let n = value.double else { throw mismatch(type, value, codingPath) }
            return n
        }

        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int.Type) throws -> Int { try integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }

        func decode(_ type: UInt64.Type) throws -> UInt64 {
            if case .number(let n) = value, n.rounded() == n, n >= 0, n < 1.8446744073709552e19 { return UInt64(n) }
            return try integer(type)
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self, from: value, path: codingPath) }

        /// Exactly: a fraction, or a value out of the type's range, is a mismatch.
        private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            guard let exact = value.int64, let result = I(exactly: exact) else { throw mismatch(type, value, codingPath) }
            return result
        }
    }

    struct IndexKey: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { return nil }
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "found \(value.isNull ? "null" : value.jsonString.prefix(40))"))
    }
}

/// `[String: V]` decodes its keys as they are written: a key is data, not a property name to
/// translate (Foundation's key strategies get this wrong).
protocol DecodableStringDictionary {
    static func decodeMembers(_ members: [String: JSONValue], path: [any CodingKey]) throws -> Any
}

extension Dictionary: DecodableStringDictionary where Key == String, Value: Decodable {
    static func decodeMembers(_ members: [String: JSONValue], path: [any CodingKey]) throws -> Any {
        try members.reduce(into: [String: Value]()) { result, member in
            result[member.key] = try JSONValueDecoder.decodeValue(Value.self, from: member.value, path: path + [JSONValueDecoder.MemberKey(member.key)])
        }
    }
}

extension JSONValueDecoder {
    struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ key: String) { stringValue = key }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
}

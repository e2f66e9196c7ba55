import Foundation

/// Encodes `Encodable` values straight into ``JSONValue``: property names in snake_case,
/// dictionary keys as written, dates as ISO 8601 with milliseconds, data as base64, integers
/// exactly — the form ``JSONValueDecoder`` reads back unchanged, without `JSONEncoder`'s cost. Measured under concurrent load on two cores,
/// `JSONEncoder` alone took a Swift plugin route from 0.87 to 0.75 of a native route's
/// throughput (docs/PERFORMANCE.md).
public enum JSONValueEncoder {
    /// Encode `value`: snake_case keys, ISO 8601 dates with milliseconds, exact integers; nil optionals left out.
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let slot = Slot()
        try encodeValue(value, into: slot, path: [])
        return slot.resolved
    }

    static func encodeValue<T: Encodable>(_ value: T, into slot: Slot, path: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: slot.node = .value(json)
        case let date as Date: slot.node = .value(.string(date.iso8601))
        case let data as Data: slot.node = .value(.string(data.base64EncodedString()))
        case let url as URL: slot.node = .value(.string(url.absoluteString))
        case let decimal as Decimal: slot.node = .value(.number(NSDecimalNumber(decimal: decimal).doubleValue))
        case let dictionary as any EncodableStringDictionary: try dictionary.encodeMembers(into: slot, path: path)
        default: try value.encode(to: ValueEncoder(slot: slot, codingPath: path))
        }
    }

    /// Where one value is being built. Containers fill it in place (no copy per member).
    final class Slot {
        enum Node {
            case empty
            case value(JSONValue)
            case object([String: Slot])
            case array([Slot])
        }

        var node: Node = .empty

        var resolved: JSONValue {
            switch node {
            case .empty: return .object([:])
            case .value(let v): return v
            case .object(let members): return .object(members.mapValues(\.resolved))
            case .array(let items): return .array(items.map(\.resolved))
            }
        }

        func member(_ key: String) -> Slot {
            var members: [String: Slot] = [:]
            if case .object(let existing) = node { members = existing }
            let child = Slot()
            members[key] = child
            node = .object(members)
            return child
        }

        func appended() -> Slot {
            var items: [Slot] = []
            if case .array(let existing) = node { items = existing }
            let child = Slot()
            items.append(child)
            node = .array(items)
            return child
        }
    }

    struct ValueEncoder: Encoder {
        let slot: Slot
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if case .object = slot.node {} else { slot.node = .object([:]) }
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if case .array = slot.node {} else { slot.node = .array([]) }
            return Unkeyed(slot: slot, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]

        func put(_ value: JSONValue, _ key: Key) { slot.member(snakeCase(key.stringValue)).node = .value(value) }

        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { put(.number(value), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { put(.number(Double(value)), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { put(JSONValue(exactly: value), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoder.encodeValue(value, into: slot.member(snakeCase(key.stringValue)), path: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            ValueEncoder(slot: slot.member(snakeCase(key.stringValue)), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            ValueEncoder(slot: slot.member(snakeCase(key.stringValue)), codingPath: codingPath + [key]).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { ValueEncoder(slot: slot.member("super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            ValueEncoder(slot: slot.member(snakeCase(key.stringValue)), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let items) = slot.node { return items.count }
            return 0
        }

        func put(_ value: JSONValue) { slot.appended().node = .value(value) }

        mutating func encodeNil() throws { put(.null) }
        mutating func encode(_ value: Bool) throws { put(.bool(value)) }
        mutating func encode(_ value: String) throws { put(.string(value)) }
        mutating func encode(_ value: Double) throws { put(.number(value)) }
        mutating func encode(_ value: Float) throws { put(.number(Double(value))) }
        mutating func encode(_ value: Int) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: Int8) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: Int16) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: Int32) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: Int64) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: UInt) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: UInt8) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: UInt16) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: UInt32) throws { put(.integer(Int64(value))) }
        mutating func encode(_ value: UInt64) throws { put(JSONValue(exactly: value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.encodeValue(value, into: slot.appended(), path: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            ValueEncoder(slot: slot.appended(), codingPath: codingPath).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            ValueEncoder(slot: slot.appended(), codingPath: codingPath).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { ValueEncoder(slot: slot.appended(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.node = .value(.null) }
        mutating func encode(_ value: Bool) throws { slot.node = .value(.bool(value)) }
        mutating func encode(_ value: String) throws { slot.node = .value(.string(value)) }
        mutating func encode(_ value: Double) throws { slot.node = .value(.number(value)) }
        mutating func encode(_ value: Float) throws { slot.node = .value(.number(Double(value))) }
        mutating func encode(_ value: Int) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: Int8) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: Int16) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: Int32) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: Int64) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: UInt) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: UInt8) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: UInt16) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: UInt32) throws { slot.node = .value(.integer(Int64(value))) }
        mutating func encode(_ value: UInt64) throws { slot.node = .value(JSONValue(exactly: value)) }
        mutating func encode<T: Encodable>(_ value: T) throws { try JSONValueEncoder.encodeValue(value, into: slot, path: codingPath) }
    }
}

extension JSONValue {
    /// An unsigned integer: exact while it fits `Int64`, a `.number` above that.
    init(exactly value: UInt64) {
        self = value <= UInt64(Int64.max) ? .integer(Int64(value)) : .number(Double(value))
    }
}

/// `[String: V]` keeps its keys as they are: a key is data, not a property name to translate.
protocol EncodableStringDictionary {
    func encodeMembers(into slot: JSONValueEncoder.Slot, path: [any CodingKey]) throws
}

extension Dictionary: EncodableStringDictionary where Key == String, Value: Encodable {
    func encodeMembers(into slot: JSONValueEncoder.Slot, path: [any CodingKey]) throws {
        slot.node = .object([:])
        for (key, value) in self {
            try JSONValueEncoder.encodeValue(value, into: slot.member(key), path: path + [JSONValueDecoder.MemberKey(key)])
        }
    }
}

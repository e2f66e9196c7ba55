import Foundation

/// Derives a JSON Schema from a `Decodable` type by decoding one sample value of it with a
/// decoder that records every property the type reads (see ``JSONSchema``).
///
/// Not thread-safe: one recorder derives one schema, on one thread.
final class SchemaRecorder {
    let use: JSONSchema.Use
    /// Types being recorded right now: a type met again inside itself is described as any
    /// JSON instead of recursing forever.
    private var inProgress: Set<ObjectIdentifier> = []
    /// Rules (``SchemaRules``) naming fields their type does not have.
    private(set) var problems: [String] = []

    init(use: JSONSchema.Use) {
        self.use = use
    }

    /// The schema of `T`, and a sample value of it (nil when none could be made: the type's
    /// own `init(from:)` refused the sample's values).
    func record<T: Decodable>(_ type: T.Type) -> (schema: JSONValue, sample: T?) {
        if let scalar = Self.scalar(T.self) { return (scalar.schema, scalar.sample as? T) }
        if let enumeration = T.self as? any (CaseIterable & RawRepresentable).Type, let described = Self.cases(of: enumeration) {
            return (described.schema, described.sample as? T)
        }
        if let optional = T.self as? any OptionalSchema.Type {
            return (Self.nullable(recordErased(optional.wrappedType).schema), optional.absent as? T)
        }
        if let sequence = T.self as? any SequenceSchema.Type {
            let items = recordErased(sequence.elementType).schema
            return (["type": "array", "items": items], try? T(from: RecordingDecoder(node: SchemaNode(), recorder: self, codingPath: [])))
        }
        if let dictionary = T.self as? any DictionarySchema.Type {
            var schema: JSONValue = ["type": "object", "additionalProperties": recordErased(dictionary.valueType).schema]
            if case .object(let any) = schema["additionalProperties"], any.isEmpty { schema["additionalProperties"] = true }
            return (schema, try? T(from: RecordingDecoder(node: SchemaNode(), recorder: self, codingPath: [])))
        }
        let id = ObjectIdentifier(T.self)
        guard inProgress.insert(id).inserted else { return ([:], nil) }
        defer { inProgress.remove(id) }
        let node = SchemaNode()
        let sample = try? T(from: RecordingDecoder(node: node, recorder: self, codingPath: []))
        var schema = node.schema(for: use)
        if let rules = (T.self as? any SchemaRules.Type)?.schemaRules {
            var properties = schema["properties"].object ?? [:]
            FieldRule.apply(rules, to: &properties)
            schema["properties"] = .object(properties)
            problems += FieldRule.unknownFields(rules, in: schema, of: "\(T.self)")
        }
        return (schema, sample)
    }

    /// ``record(_:)`` for a type known only at run time.
    func recordErased(_ type: any Decodable.Type) -> (schema: JSONValue, sample: Any?) {
        func open<T: Decodable>(_ type: T.Type) -> (schema: JSONValue, sample: Any?) {
            let recorded = record(type)
            return (recorded.schema, recorded.sample)
        }
        return open(type)
    }

    // MARK: Leaves

    /// Types whose wire form the codec fixes, whatever their own `Codable` conformance says.
    private static func scalar(_ type: Any.Type) -> (schema: JSONValue, sample: Any)? {
        switch type {
        case is Bool.Type: return (["type": "boolean"], false)
        case is String.Type: return (["type": "string"], "")
        case is Int.Type: return (["type": "integer"], 0 as Int)
        case is Int64.Type: return (["type": "integer", "format": "int64"], 0 as Int64)
        case is Int32.Type: return (["type": "integer", "format": "int32"], 0 as Int32)
        case is Int16.Type: return (["type": "integer"], 0 as Int16)
        case is Int8.Type: return (["type": "integer"], 0 as Int8)
        case is UInt.Type: return (["type": "integer", "minimum": 0], 0 as UInt)
        case is UInt64.Type: return (["type": "integer", "minimum": 0], 0 as UInt64)
        case is UInt32.Type: return (["type": "integer", "minimum": 0], 0 as UInt32)
        case is UInt16.Type: return (["type": "integer", "minimum": 0], 0 as UInt16)
        case is UInt8.Type: return (["type": "integer", "minimum": 0], 0 as UInt8)
        case is Double.Type: return (["type": "number"], 0 as Double)
        case is Float.Type: return (["type": "number"], 0 as Float)
        case is Decimal.Type: return (["type": "number"], Decimal(0))
        case is Date.Type: return (["type": "string", "format": "date-time"], Date(timeIntervalSince1970: 0))
        case is Data.Type: return (["type": "string", "contentEncoding": "base64"], Data())
        case is URL.Type: return (["type": "string", "format": "uri"], URL(string: "https://example.com")!)
        case is UUID.Type: return (["type": "string", "format": "uuid"], UUID())
        case is JSONValue.Type: return ([:], JSONValue.null)
        default: return nil
        }
    }

    /// An enum of `String` or `Int` raw values lists its cases.
    private static func cases<E: CaseIterable & RawRepresentable>(of type: E.Type) -> (schema: JSONValue, sample: Any)? {
        let all = Array(E.allCases)
        guard let first = all.first else { return nil }
        let strings = all.compactMap { $0.rawValue as? String }
        if strings.count == all.count { return (["type": "string", "enum": .array(strings.map(JSONValue.string))], first) }
        let ints = all.compactMap { $0.rawValue as? Int }
        if ints.count == all.count { return (["type": "integer", "enum": .array(ints.map { .number(Double($0)) })], first) }
        return nil
    }

    /// `schema`, or null.
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema, !fields.isEmpty else { return schema }
        if case .string(let type) = fields["type"] ?? .null {
            fields["type"] = [.string(type), "null"]
            if case .array(let values) = fields["enum"] ?? .null { fields["enum"] = .array(values + [.null]) }
            return .object(fields)
        }
        return ["anyOf": [schema, ["type": "null"]]]
    }
}

// MARK: - What a decoding records

/// One value's shape as the type's `init(from:)` revealed it.
final class SchemaNode {
    enum Shape {
        case unknown
        case single(JSONValue)
        case object
        case array(items: JSONValue?)
    }

    var shape = Shape.unknown
    private(set) var properties: [(name: String, schema: JSONValue)] = []
    private(set) var required: [String] = []

    func property(_ name: String, _ schema: JSONValue, required isRequired: Bool) {
        guard !properties.contains(where: { $0.name == name }) else { return }
        properties.append((name, schema))
        if isRequired { required.append(name) }
    }

    func schema(for use: JSONSchema.Use) -> JSONValue {
        switch shape {
        case .unknown: return [:]
        case .single(let schema): return schema
        case .array(let items): return items.map { ["type": "array", "items": $0] } ?? ["type": "array"]
        case .object:
            var schema: JSONValue = ["type": "object", "properties": .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.schema) }))]
            if !required.isEmpty { schema["required"] = .array(required.map(JSONValue.string)) }
            if use == .response { schema["additionalProperties"] = false }
            return schema
        }
    }
}

/// The decoder handed to the type's `init(from:)`.
struct RecordingDecoder: Decoder {
    let node: SchemaNode
    let recorder: SchemaRecorder
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if case .object = node.shape {} else { node.shape = .object }
        return KeyedDecodingContainer(RecordingKeyedContainer<Key>(node: node, recorder: recorder, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        if case .array = node.shape {} else { node.shape = .array(items: nil) }
        return RecordingUnkeyedContainer(node: node, recorder: recorder, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        RecordingSingleValueContainer(node: node, recorder: recorder, codingPath: codingPath)
    }
}

/// Thrown when a sample cannot be made; the properties recorded so far still count.
struct NoSample: Error {}

struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let node: SchemaNode
    let recorder: SchemaRecorder
    let codingPath: [any CodingKey]
    var allKeys: [Key] { [] }

    /// Every key is "there", so code that checks before decoding still reveals the property.
    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let recorded = recorder.record(T.self)
        node.property(snakeCase(key.stringValue), recorded.schema, required: true)
        guard let sample = recorded.sample else { throw NoSample() }
        return sample
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        node.property(snakeCase(key.stringValue), SchemaRecorder.nullable(recorder.record(T.self).schema), required: false)
        return nil
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(Leaf<Bool>.self, forKey: key).value }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(Leaf<String>.self, forKey: key).value }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(Leaf<Double>.self, forKey: key).value }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(Leaf<Float>.self, forKey: key).value }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(Leaf<Int>.self, forKey: key).value }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(Leaf<Int8>.self, forKey: key).value }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(Leaf<Int16>.self, forKey: key).value }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(Leaf<Int32>.self, forKey: key).value }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(Leaf<Int64>.self, forKey: key).value }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(Leaf<UInt>.self, forKey: key).value }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(Leaf<UInt8>.self, forKey: key).value }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(Leaf<UInt16>.self, forKey: key).value }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(Leaf<UInt32>.self, forKey: key).value }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(Leaf<UInt64>.self, forKey: key).value }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try decodeIfPresent(Leaf<Bool>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try decodeIfPresent(Leaf<String>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try decodeIfPresent(Leaf<Double>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try decodeIfPresent(Leaf<Float>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try decodeIfPresent(Leaf<Int>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try decodeIfPresent(Leaf<Int8>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try decodeIfPresent(Leaf<Int16>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try decodeIfPresent(Leaf<Int32>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try decodeIfPresent(Leaf<Int64>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try decodeIfPresent(Leaf<UInt>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try decodeIfPresent(Leaf<UInt8>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try decodeIfPresent(Leaf<UInt16>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try decodeIfPresent(Leaf<UInt32>.self, forKey: key)?.value }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try decodeIfPresent(Leaf<UInt64>.self, forKey: key)?.value }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let child = SchemaNode()
        child.shape = .object
        defer { node.property(snakeCase(key.stringValue), child.schema(for: recorder.use), required: true) }
        return KeyedDecodingContainer(RecordingKeyedContainer<NestedKey>(node: child, recorder: recorder, codingPath: codingPath + [key]))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        node.property(snakeCase(key.stringValue), ["type": "array"], required: true)
        return RecordingUnkeyedContainer(node: SchemaNode(), recorder: recorder, codingPath: codingPath + [key])
    }

    func superDecoder() throws -> any Decoder { RecordingDecoder(node: node, recorder: recorder, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RecordingDecoder(node: node, recorder: recorder, codingPath: codingPath) }
}

/// A primitive read through the generic path, so each primitive overload is one line.
private struct Leaf<Value: Decodable>: Decodable {
    var value: Value
    init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(Value.self) }
}

struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    let node: SchemaNode
    let recorder: SchemaRecorder
    let codingPath: [any CodingKey]
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let recorded = recorder.record(T.self)
        if case .array(nil) = node.shape { node.shape = .array(items: recorded.schema) }
        guard let sample = recorded.sample else { throw NoSample() }
        return sample
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let child = SchemaNode()
        child.shape = .object
        return KeyedDecodingContainer(RecordingKeyedContainer<NestedKey>(node: child, recorder: recorder, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { self }
    mutating func superDecoder() throws -> any Decoder { RecordingDecoder(node: node, recorder: recorder, codingPath: codingPath) }
}

struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let node: SchemaNode
    let recorder: SchemaRecorder
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let recorded = recorder.record(T.self)
        node.shape = .single(recorded.schema)
        guard let sample = recorded.sample else { throw NoSample() }
        return sample
    }
}

// MARK: - Containers the recorder recognises by type

protocol OptionalSchema {
    static var wrappedType: any Decodable.Type { get }
    static var absent: Self { get }
    var isAbsent: Bool { get }
}

extension Optional: OptionalSchema where Wrapped: Decodable {
    static var wrappedType: any Decodable.Type { Wrapped.self }
    static var absent: Self { nil }
    var isAbsent: Bool { self == nil }
}

protocol SequenceSchema {
    static var elementType: any Decodable.Type { get }
}

extension Array: SequenceSchema where Element: Decodable {
    static var elementType: any Decodable.Type { Element.self }
}

extension Set: SequenceSchema where Element: Decodable {
    static var elementType: any Decodable.Type { Element.self }
}

protocol DictionarySchema {
    static var valueType: any Decodable.Type { get }
}

extension Dictionary: DictionarySchema where Key == String, Value: Decodable {
    static var valueType: any Decodable.Type { Value.self }
}

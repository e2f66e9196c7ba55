import Foundation
import Son1kPluginKit
import Testing

/// Schemas derived from Swift types: what `/openapi.json` documents and requests are checked against.
@Suite struct JSONSchemaTests {
    struct Song: Codable {
        enum Quality: String, Codable, CaseIterable { case standard, high, ultra }
        struct Artist: Codable { var displayName: String }
        var title: String
        var durationS: Double
        var plays: Int
        var quality: Quality
        var artist: Artist
        var tags: [String]
        var counts: [String: Int]
        var createdAt: Date
        var metadata: JSONValue
        var lyrics: String?
        var previous: Quality?
    }

    @Test func aResponseSchemaListsEveryPropertyItsTypeAndWhichAreRequired() {
        let schema = JSONSchema.of(Song.self, for: .response)
        #expect(schema["type"] == "object")
        #expect(schema["additionalProperties"] == false)
        #expect(schema["required"] == ["title", "duration_s", "plays", "quality", "artist", "tags", "counts", "created_at", "metadata"])
        let p = schema["properties"]
        #expect(p["title"] == ["type": "string"])
        #expect(p["duration_s"] == ["type": "number"])
        #expect(p["plays"] == ["type": "integer"])
        #expect(p["quality"] == ["type": "string", "enum": ["standard", "high", "ultra"]])
        #expect(p["artist"] == ["type": "object", "properties": ["display_name": ["type": "string"]], "required": ["display_name"],
                                "additionalProperties": false])
        #expect(p["tags"] == ["type": "array", "items": ["type": "string"]])
        #expect(p["counts"] == ["type": "object", "additionalProperties": ["type": "integer"]])
        #expect(p["created_at"] == ["type": "string", "format": "date-time"])
        #expect(p["metadata"] == [:], "free-form JSON accepts anything")
        #expect(p["lyrics"] == ["type": ["string", "null"]])
        #expect(p["previous"] == ["type": ["string", "null"], "enum": ["standard", "high", "ultra", nil]])
    }

    @Test func aRequestSchemaToleratesUnknownProperties() {
        let schema = JSONSchema.of(Song.self, for: .request)
        #expect(schema["additionalProperties"].isNull)
        #expect(schema["properties"]["artist"]["additionalProperties"].isNull)
    }

    struct Renamed: Codable {
        var userID: String
        var limit: Int?
        enum CodingKeys: String, CodingKey { case userID = "user_id", limit }
    }

    @Test func explicitCodingKeysAreTheNamesOnTheWire() {
        let schema = JSONSchema.of(Renamed.self)
        #expect(schema["properties"] == ["user_id": ["type": "string"], "limit": ["type": ["integer", "null"]]])
        #expect(schema["required"] == ["user_id"])
    }

    struct Tree: Codable {
        var name: String
        var children: [Tree]
        var parent: [Tree]?
    }

    @Test func aRecursiveTypeEndsInAnyJSONInsteadOfLoopingForever() {
        let schema = JSONSchema.of(Tree.self)
        #expect(schema["properties"]["name"] == ["type": "string"])
        #expect(schema["properties"]["children"] == ["type": "array", "items": [:]])
    }

    struct Validated: Decodable {
        var name: String
        var age: Int
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            guard !name.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "empty") }
            age = try c.decode(Int.self, forKey: .age)
        }
        enum CodingKeys: String, CodingKey { case name, age }
    }

    @Test func aTypeThatRefusesTheSampleStillShowsWhatItReadBeforeRefusing() {
        let schema = JSONSchema.of(Validated.self)
        #expect(schema["properties"]["name"] == ["type": "string"])
        #expect(schema["required"] == ["name"])
    }

    struct Cents: Codable {
        var value: Int
        init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(Int.self) }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(value)
        }
    }
    struct Price: Codable { var amount: Cents; var history: [Cents] }

    @Test func aSingleValueTypeIsDescribedByWhatItDecodes() {
        let schema = JSONSchema.of(Price.self)
        #expect(schema["properties"]["amount"] == ["type": "integer"])
        #expect(schema["properties"]["history"] == ["type": "array", "items": ["type": "integer"]])
    }
}

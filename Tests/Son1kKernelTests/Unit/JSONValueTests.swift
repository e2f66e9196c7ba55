import Foundation
import Son1kPluginKit
import Testing

@Suite struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONValue.parse(Array(#" {"a": [1, -2.5, 3e2, true, false, null], "s": "x\"\\\/\n\t\u00e9\ud83c\udfb5", "o": {}} "#.utf8))
        #expect(v["a"] == [1, -2.5, 300, true, false, nil])
        #expect(v["s"] == "x\"\\/\n\té🎵")
        #expect(v["o"] == [:])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"\\x\"", "\"\u{01}\"", "[1] 2", "\"\\ud800\"", "-", "1.", "1e"])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func serialisesWithSortedKeysAndRoundTrips() throws {
        let v: JSONValue = ["b": [1, 2.5, "q\"\n\u{01}"], "a": nil, "c": ["z": true]]
        #expect(v.jsonString == #"{"a":null,"b":[1,2.5,"q\"\n\u0001"],"c":{"z":true}}"#)
        #expect(try JSONValue.parse(v.bytes) == v)
        // Foundation agrees it is JSON, and agrees on the string.
        let object = try JSONSerialization.jsonObject(with: v.encoded()) as? [String: Any]
        #expect((object?["b"] as? [Any])?[2] as? String == "q\"\n\u{01}")
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(deep.utf8)) }
    }
}

@Suite struct JSONValueEncoderTests {
    struct Inner: Encodable { var userID: String; var tags: [String]; var score: Double? }
    struct Outer: Encodable {
        var nextCursor: String?
        var createdAt: Date
        var myURLProperty: URL
        var items: [Inner]
        var raw: JSONValue
    }

    @Test func encodesLikeJSONEncoderWithSnakeCaseAndISODates() throws {
        let value = Outer(nextCursor: nil, createdAt: Date(timeIntervalSince1970: 0), myURLProperty: URL(string: "https://a.example/x")!,
                          items: [Inner(userID: "u1", tags: ["a", "b"], score: 1.5), Inner(userID: "u2", tags: [], score: nil)],
                          raw: ["keepCase": 1])
        let ours = try JSONValueEncoder.encode(value)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        let foundation = try JSONValue.parse(Array(encoder.encode(Outer(nextCursor: nil, createdAt: value.createdAt, myURLProperty: value.myURLProperty,
                                                                         items: value.items, raw: value.raw))))
        #expect(ours["created_at"] == "1970-01-01T00:00:00Z")
        #expect(ours["my_url_property"] == "https://a.example/x")
        #expect(ours["items"][0] == ["user_id": "u1", "tags": ["a", "b"], "score": 1.5])
        #expect(ours["items"][1]["score"].isNull && ours["items"][1].object?["score"] == nil)
        #expect(ours["raw"] == ["keepCase": 1])
        #expect(ours.object?["next_cursor"] == nil)
        #expect(ours == foundation)
    }

    @Test(arguments: [("maxPerUser", "max_per_user"), ("userID", "user_id"), ("myURLProperty", "my_url_property"),
                      ("createdAt", "created_at"), ("already_snake", "already_snake"), ("aB", "a_b"), ("a", "a"),
                      // Foundation's own (odd) answer: matching it keeps existing clients' keys unchanged.
                      ("URL", "u_rl")])
    func snakeCaseSplitsWordsAsFoundationDoes(_ pair: (String, String)) {
        #expect(snakeCase(pair.0) == pair.1)
    }
}

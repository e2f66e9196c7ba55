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

    /// SQL parameters cross the ABI as JSON: the extremes of 64 bits (a "no lower bound"
    /// cursor is `Int64.min`) must stay integers, not become doubles PostgreSQL refuses.
    @Test func sixtyFourBitExtremesStayExactIntegers() throws {
        for value in [Int64.min, Int64.max, -1, 0] {
            let json = JSONValue.array([.integer(value)]).jsonString
            #expect(try JSONValue.parse(Array(json.utf8)) == [.integer(value)], "\(json)")
            #expect(SQLValue(try JSONValue.parse(Array(json.utf8))[0]) == .int(value))
        }
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
    struct Inner: Codable, Equatable { var userID: String; var tags: [String]; var score: Double? }
    struct Outer: Codable, Equatable {
        var nextCursor: String?
        var createdAt: Date
        var myURLProperty: URL
        var items: [Inner]
        var raw: JSONValue
        var byTier: [String: Int]
        var bytes: Int64
    }

    static let sample = Outer(nextCursor: nil, createdAt: Date(epochMs: 1_764_000_000_250), myURLProperty: URL(string: "https://a.example/x")!,
                              items: [Inner(userID: "u1", tags: ["a", "b"], score: 1.5), Inner(userID: "u2", tags: [], score: nil)],
                              raw: ["keepCase": 1], byTier: ["FREE": 3, "PRO": 200], bytes: Int64.max - 1)

    @Test func encodesInSnakeCaseWithMillisecondDatesAndExactIntegers() throws {
        let ours = try JSONValueEncoder.encode(Self.sample)
        #expect(ours["created_at"] == "2025-11-24T16:00:00.250Z")
        #expect(ours["my_url_property"] == "https://a.example/x")
        #expect(ours["items"][0] == ["user_id": "u1", "tags": ["a", "b"], "score": 1.5])
        #expect(ours["items"][1]["score"].isNull && ours["items"][1].object?["score"] == nil)
        #expect(ours["raw"] == ["keepCase": 1], "free-form JSON keeps its keys")
        #expect(ours["by_tier"] == ["FREE": 3, "PRO": 200], "dictionary keys are data: kept as written")
        #expect(ours.object?["next_cursor"] == nil)
        #expect(ours.jsonString.contains("\"bytes\":9223372036854775806"), "no trip through Double: \(ours.jsonString)")
    }

    @Test func whatTheEncoderWritesTheDecoderReadsBackUnchanged() throws {
        let text = try JSONValueEncoder.encode(Self.sample).jsonString
        let back = try JSONValueDecoder.decode(Outer.self, from: JSONValue.parse(Array(text.utf8)))
        #expect(back == Self.sample)
        #expect(try JSONValue.parse(Array(text.utf8)).decode(Outer.self) == Self.sample, "JSONValue.decode is the same codec")
    }

    @Test func theDecoderIsExactAboutIntegersAndNamesWhatIsWrong() throws {
        struct Counts: Decodable { var plays: Int; var size: Int64; var ratio: Double }
        let big = try JSONValueDecoder.decode(Counts.self, from: JSONValue.parse(Array(#"{"plays": 3, "size": 9007199254740993, "ratio": 2}"#.utf8)))
        #expect(big.size == 9_007_199_254_740_993 && big.plays == 3 && big.ratio == 2)
        #expect { try JSONValueDecoder.decode(Counts.self, from: ["plays": 2.5, "size": 1, "ratio": 1]) } throws: { error in
            guard case DecodingError.typeMismatch(_, let ctx) = error else { return false }
            return ctx.codingPath.map(\.stringValue) == ["plays"]
        }
        #expect { try JSONValueDecoder.decode(Counts.self, from: ["size": 1, "ratio": 1]) } throws: { error in
            if case DecodingError.keyNotFound(let key, _) = error { return key.stringValue == "plays" }
            return false
        }
        #expect(Date(iso8601: "2026-11-22T09:30:00Z") == Date(epochMs: 1_795_339_800_000), "whole seconds are read too")
    }

    @Test(arguments: [("maxPerUser", "max_per_user"), ("userID", "user_id"), ("myURLProperty", "my_url_property"),
                      ("createdAt", "created_at"), ("already_snake", "already_snake"), ("aB", "a_b"), ("a", "a"),
                      // Foundation's own (odd) answer: matching it keeps existing clients' keys unchanged.
                      ("URL", "u_rl")])
    func snakeCaseSplitsWordsAsFoundationDoes(_ pair: (String, String)) {
        #expect(snakeCase(pair.0) == pair.1)
    }
}

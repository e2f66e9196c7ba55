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

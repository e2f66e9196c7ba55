import Foundation
import Son1kPluginKit
import Testing

/// Instants in JSON: the hand-written ISO 8601 writer against Foundation's parser.
@Suite struct DateWireTests {
    @Test func knownInstantsAreWrittenAsISO8601WithMilliseconds() {
        #expect(Date(epochMs: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Date(epochMs: 1_795_852_800_250).iso8601 == "2026-11-28T08:00:00.250Z")
        #expect(Date(epochMs: 951_782_400_000).iso8601 == "2000-02-29T00:00:00.000Z", "a leap day")
        #expect(Date(epochMs: -1).iso8601 == "1969-12-31T23:59:59.999Z", "before 1970")
        #expect(Date(epochMs: 253_402_300_799_999).iso8601 == "9999-12-31T23:59:59.999Z")
    }

    @Test func everyWrittenInstantReadsBackToTheSameMillisecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let ms = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)
            let text = Date(epochMs: ms).iso8601
            #expect(Date(iso8601: text)?.epochMs == ms, "\(ms) → \(text)")
        }
    }

    @Test func otherFormsAreStillReadAndImpossibleDatesRefused() {
        #expect(Date(iso8601: "2026-11-28T09:00:00+01:00")?.epochMs == 1_795_852_800_000, "an offset")
        #expect(Date(iso8601: "2026-11-28T08:00:00Z")?.epochMs == 1_795_852_800_000, "whole seconds")
        #expect(Date(iso8601: "2026-11-28 08:00:00") == nil)
        #expect(Date(iso8601: "") == nil)
    }
}

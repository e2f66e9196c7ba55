import Foundation
import Son1kPluginKit
import Testing

/// Streamed responses (ABI 1.1) end to end: the head and lines reach the client while the
/// handler still runs, and a handler learns when its client leaves.
@Suite struct StreamingTests {
    @Test func aStreamingHandlerLearnsWhenItsClientLeaves() async throws {
        let k = try await TestKernel.start([.hello, .faulty()])
        defer { k.stop() }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sN", "-X", "POST", k.baseURL + "/api/faulty/stream"]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        // The first line arrives while the handler has ~30 s of lines still to write.
        var received: [UInt8] = []
        while !received.contains(UInt8(ascii: "\n")) {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            received += data
        }
        let first = received.split(separator: UInt8(ascii: "\n")).first.map { try? JSONValue.parse(Array($0)) } ?? nil
        #expect(first?["n"] == 0, "\(String(decoding: received, as: UTF8.self))")
        kill(curl.processIdentifier, SIGKILL)
        curl.waitUntilExit()

        let gone = try await poll("the handler to see its client leave", timeout: .seconds(15), every: .milliseconds(50)) { () -> JSONValue? in
            let items = try await k.request("GET", "/api/faulty/received").json["items"].array ?? []
            return items.first { $0["topic"] == "stream.client_gone" }
        }
        let stoppedAt = Int(gone["name"].string ?? "") ?? 3000
        #expect(stoppedAt < 3000, "the handler stopped producing after \(stoppedAt) of 3000 lines")
        #expect(try await k.request("GET", "/api/hello/after").status == 200)
    }
}

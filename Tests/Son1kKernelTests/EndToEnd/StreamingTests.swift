import Foundation
import Son1kPluginKit
import Testing

/// Streamed responses (ABI 1.1) end to end: the head and lines reach the client while the
/// handler still runs, and a handler learns when its client leaves.
@Suite struct StreamingTests {
    @Test func aStreamingHandlerLearnsWhenItsClientLeaves() async throws {
        let k = try await TestKernel.start([.hello, .faulty()])
        defer { k.stop() }
        let client = try StreamingRequest(k.baseURL + "/api/faulty/stream")
        // The first line arrives while the handler has ~30 s of lines still to write.
        let line = client.firstLine()
        #expect((try? JSONValue.parse(line))?["n"] == 0, "\(String(decoding: line, as: UTF8.self))")
        client.kill()

        let gone = try await poll("the handler to see its client leave", timeout: .seconds(15), every: .milliseconds(50)) { () -> JSONValue? in
            let items = try await k.request("GET", "/api/faulty/received").json["items"].array ?? []
            return items.first { $0["topic"] == "stream.client_gone" }
        }
        let stoppedAt = Int(gone["name"].string ?? "") ?? 3000
        #expect(stoppedAt < 3000, "the handler stopped producing after \(stoppedAt) of 3000 lines")
        #expect(try await k.request("GET", "/api/hello/after").status == 200)
    }
}

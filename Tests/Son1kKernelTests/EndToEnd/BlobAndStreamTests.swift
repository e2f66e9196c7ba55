import Foundation
import Son1kPluginKit
import Testing

@Suite struct BlobAndStreamTests {
    @Test func blobsServeRangesETagsAndOnlyToTheirOwner() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let owner = try await k.register("rita")
        let stranger = try await k.register("sam")
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        let up = try await k.request("PUT", "/api/hello/avatar", token: owner.token, body: bytes, headers: ["Content-Type": "image/png"])
        let id = try #require(up.json["id"].string)
        let path = "/api/blobs/\(id)"

        let full = try await k.request("GET", path, token: owner.token)
        #expect(full.status == 200 && full.body == bytes)
        #expect(full.headers["content-type"] == "image/png")
        #expect(full.headers["accept-ranges"] == "bytes")

        let part = try await k.request("GET", path, token: owner.token, headers: ["Range": "bytes=10-19"])
        #expect(part.status == 206)
        #expect(part.headers["content-range"] == "bytes 10-19/1000")
        #expect(part.body == Array(bytes[10...19]))
        let tail = try await k.request("GET", path, token: owner.token, headers: ["Range": "bytes=-5"])
        #expect(tail.body == Array(bytes[995...]))
        let beyond = try await k.request("GET", path, token: owner.token, headers: ["Range": "bytes=5000-"])
        #expect(beyond.status == 416)
        #expect(beyond.headers["content-range"] == "bytes */1000")

        let etag = try #require(full.headers["etag"])
        #expect(try await k.request("GET", path, token: owner.token, headers: ["If-None-Match": etag]).status == 304)

        #expect(try await k.request("GET", path, token: stranger.token).status == 404)
        #expect(try await k.request("GET", path).status == 404)
        #expect(try await k.request("GET", path, token: try await k.adminToken()).status == 200)
    }

    @Test func aUserReceivesTheirOwnActionsOverTheWebSocketAndNobodyElses() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let me = try await k.register("tara")
        let other = try await k.register("ugo")
        let socket = try await EventSocket.open(k, token: me.token)
        defer { socket.close() }
        // The server registers the subscriber right after the upgrade; publish until it arrives.
        _ = try await poll("my event on the WebSocket", timeout: .seconds(10), every: .milliseconds(200)) { () -> Bool? in
            let theirs = try await k.request("POST", "/api/hello/greetings", token: other.token, json: ["name": "not-mine"])
            let mine = try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "mine"])
            #expect(theirs.status == 201 && mine.status == 201)
            return socket.events.isEmpty ? nil : true
        }
        let events = socket.events
        #expect(events.allSatisfy { $0["user_id"] == .string(me.id) && $0["topic"] == "hello.greeted" })
        #expect(events.allSatisfy { $0["data"]["name"] == "mine" })
    }
}

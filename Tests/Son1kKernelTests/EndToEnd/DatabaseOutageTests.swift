import Foundation
import Son1kPluginKit
import Synchronization
import Testing

/// PostgreSQL goes away while the server runs, and comes back: requests that needed it are
/// answered 503 problem+json at once (no hang, no crash), and the server uses the database
/// again when it returns, with nothing lost.
@Suite(.serialized) struct DatabaseOutageTests {
    @Test func aLostDatabaseIsA503AndTheServerRecoversWhenItReturns() async throws {
        let cluster = try await onThread { try PostgresCluster.dedicated() }
        defer { Thread { cluster.stop() }.start() }
        let url = try await onThread { try cluster.freshDatabase() }
        let k = try await TestKernel.start([.hello], environment: ["DATABASE_URL": url], backend: .postgres)
        defer { k.stop() }
        let me = try await k.register("patient")
        #expect(try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "before"]).status == 201)

        _ = await onThreads(1) { _ in cluster.halt() }
        let start = ContinuousClock.now
        let during = try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "during"])
        #expect(during.status == 503 && during.json["code"] == "database_unavailable", "\(during)")
        #expect(during.headers["content-type"] == "application/problem+json")
        #expect(during.json["detail"].string?.contains("127.0.0.1:\(cluster.port)") == true, "names where the database is: \(during)")
        #expect(ContinuousClock.now - start < .seconds(15), "answered, not left hanging")
        #expect(k.process?.isRunning == true, "the server keeps running")

        try await onThread { try cluster.resume() }
        let last = Mutex("")
        let items: [JSONValue]
        do {
            items = try await poll("the server to use the database again", timeout: .seconds(60), every: .milliseconds(250)) { () -> [JSONValue]? in
                let r = try await k.request("GET", "/api/hello/greetings", token: me.token)
                last.withLock { $0 = "\(r)" }
                return r.status == 200 ? (r.json["items"].array ?? []) : nil
            }
        } catch {
            throw TestFailure("\(error); last answer: \(last.withLock { $0 }); the server said:\n\(k.log.suffix(3000))")
        }
        #expect(items.map(\.["name"]) == ["before"], "what was written before is there, and nothing of the refused request")
        #expect(try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "after"]).status == 201)
    }
}

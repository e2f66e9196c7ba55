import Foundation
import Son1kPluginKit
import Testing

/// Hooks run inside the publisher's transaction and can veto it; actions survive anything
/// short of losing the database.
@Suite struct EventBusTests {
    @Test func aHookVetoReturnsItsStatusAndRollsBackTheWritesBeforeIt() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty()])
        defer { k.stop() }
        let user = try await k.register("vera")
        let vetoed = try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "forbidden"])
        #expect(vetoed.status == 403)
        #expect(vetoed.json["code"] == "name_forbidden")
        #expect(vetoed.headers["content-type"] == "application/problem+json")

        // The greeting inserted before the hook ran is gone, and no action was recorded.
        #expect(try await k.request("GET", "/api/hello/greetings", token: user.token).json["items"] == [])
        let admin = try await k.adminToken()
        #expect(try await k.request("GET", "/api/admin/events?topic=hello.greeted", token: admin).json["items"] == [])

        // The next greeting goes through: the veto was that request's only.
        #expect(try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "Ann"]).status == 201)
        #expect(try await k.request("GET", "/api/hello/greetings", token: user.token).json["items"].array?.count == 1)
    }

    @Test func aHookSubscriberCanModifyThePayload() async throws {
        let k = try await TestKernel.start([.hello, .faulty()])
        defer { k.stop() }
        let user = try await k.register("mona")
        let r = try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "shout"])
        #expect(r.status == 201)
        #expect(r.json["message"] == "Hello, SHOUT!")
    }

    @Test func anActionIsDeliveredToEverySubscriberWithItsEventID() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty()])
        defer { k.stop() }
        let user = try await k.register("abel")
        #expect(try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "Ann"]).status == 201)
        let faultyItems = try await poll("faulty to receive the action") { () -> [JSONValue]? in
            let items = try await k.request("GET", "/api/faulty/received").json["items"].array ?? []
            return items.isEmpty ? nil : items
        }
        let cItems = try await poll("cplugin to receive the action") { () -> [JSONValue]? in
            let items = try await k.request("GET", "/api/cplugin/log").json["items"].array?.filter { $0["topic"] == "hello.greeted" } ?? []
            return items.isEmpty ? nil : items
        }
        #expect(faultyItems.count == 1 && cItems.count == 1)
        #expect(faultyItems[0]["event_id"] == cItems[0]["event_id"])
        #expect(faultyItems[0]["name"] == "Ann")
    }

    @Test func aFailingSubscriberIsRetriedThenDeadLetteredAndListedForAdmins() async throws {
        let k = try await TestKernel.start([.hello, .faulty(["fail_actions": true])], kernel: ["events": ["max_attempts": 3, "retry_base_ms": 10]])
        defer { k.stop() }
        let user = try await k.register("dana")
        #expect(try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "Ann"]).status == 201)
        let admin = try await k.adminToken()
        let dead = try await poll("the delivery to be dead-lettered") { () -> JSONValue? in
            try await k.request("GET", "/api/admin/events?status=dead", token: admin).json["items"][0].nilIfNull
        }
        #expect(dead["subscriber"] == "faulty")
        #expect(dead["attempts"] == 3)
        #expect(dead["topic"] == "hello.greeted")
        #expect(try await k.request("GET", "/api/admin/events?status=bogus", token: admin).status == 422)
    }

    @Test func anActionCommittedBeforeSIGKILLIsDeliveredAfterRestart() async throws {
        // The subscriber fails while the first process lives, so the delivery is still pending
        // in the outbox when the process is killed without any shutdown code running.
        let failing = try await TestKernel.start([.hello, .faulty(["fail_actions": true])],
                                                 kernel: ["events": ["max_attempts": 1000, "retry_base_ms": 50]])
        let user = try await failing.register("kim")
        let created = try await failing.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "Ann"])
        #expect(created.status == 201)
        let admin = try await failing.adminToken()
        _ = try await poll("a failed delivery attempt") { () -> Bool? in
            let item = try await failing.request("GET", "/api/admin/events?topic=hello.greeted", token: admin).json["items"][0]
            return (item["attempts"].int ?? 0) >= 1 && item["status"] == "pending" ? true : nil
        }
        #expect(try await failing.request("GET", "/api/faulty/received").json["items"] == [])
        failing.kill()

        // Same data directory, subscriber healthy now.
        defer { failing.stop() }
        try failing.reconfigure([.hello, .faulty(["fail_actions": false])])
        try await failing.launch()
        let received = try await poll("the pending action after restart", timeout: .seconds(20)) { () -> [JSONValue]? in
            let items = try await failing.request("GET", "/api/faulty/received").json["items"].array ?? []
            return items.isEmpty ? nil : items
        }
        #expect(received.count == 1)
        #expect(received[0]["name"] == "Ann")
        #expect(created.json["id"] == 1)
    }
}

extension JSONValue {
    var nilIfNull: JSONValue? { isNull ? nil : self }
}

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

    /// The C plugin subscribes to `hello.greeted` transactionally and refuses "refused-by-c"
    /// after writing its log row; faulty subscribes the ordinary way. Greetings posted at once
    /// land in shared delivery batches.
    @Test func aTransactionalSubscriberCommitsWithItsDeliveryAndARefusalTakesBackOnlyItsWrites() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty()], kernel: ["events": ["max_attempts": 2, "retry_base_ms": 10]])
        defer { k.stop() }
        let user = try await k.register("tess")
        let names = (0..<24).map { $0 % 4 == 0 ? "refused-by-c" : "guest \($0)" }
        let created = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for name in names { group.addTask { try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": .string(name)]).json } }
            return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
        }
        #expect(created.count == 24 && created.allSatisfy { $0["id"].int != nil })
        let admin = try await k.adminToken()
        let deliveries = try await poll("every delivery to be settled") { () -> [JSONValue]? in
            let items = try await k.request("GET", "/api/admin/events?topic=hello.greeted&limit=100", token: admin).json["items"].array ?? []
            return items.count == 48 && items.allSatisfy({ $0["status"] != "pending" }) ? items : nil
        }
        let refusedIDs = try await Set(k.request("GET", "/api/admin/events?topic=hello.greeted&status=dead&limit=100", token: admin)
            .json["items"].array?.compactMap(\.["event_id"].string) ?? [])
        let c = deliveries.filter { $0["subscriber"] == "cplugin" }
        // Each accepted delivery was recorded once, on its first attempt; each refusal twice, then dead.
        #expect(c.filter { $0["status"] == "delivered" }.count == 18)
        #expect(c.filter { $0["status"] == "delivered" }.allSatisfy { $0["attempts"] == 1 })
        #expect(c.filter { $0["status"] == "dead" }.count == 6)
        #expect(c.filter { $0["status"] == "dead" }.allSatisfy { $0["attempts"] == 2 })
        // The refused deliveries' rows are gone with them; every accepted one's row is there.
        let logged = Set(try await k.request("GET", "/api/cplugin/log").json["items"].array?
            .filter { $0["topic"] == "hello.greeted" }.compactMap(\.["event_id"].string) ?? [])
        let accepted = Set(c.filter { $0["status"] == "delivered" }.compactMap(\.["event_id"].string))
        #expect(logged == accepted)
        #expect(logged.isDisjoint(with: refusedIDs) && refusedIDs.count == 6)
        // The ordinary subscriber of the same batches received every greeting.
        #expect(deliveries.filter { $0["subscriber"] == "faulty" && $0["status"] == "delivered" }.count == 24)
        let received = try await k.request("GET", "/api/faulty/received").json["items"].array ?? []
        #expect(received.count == 24)
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
        // in the outbox when the process is killed without any shutdown code running. A kill
        // in the middle of an attempt leaves the delivery leased: the next process takes it
        // when the lease ends, so the lease is short here.
        let failing = try await TestKernel.start([.hello, .faulty(["fail_actions": true])],
                                                 kernel: ["events": ["max_attempts": 1000, "retry_base_ms": 50, "lease_ms": 3000]])
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
    /// Nil for `.null`. Spelled with `if`: in `isNull ? nil : self` the literal `nil` would
    /// become the JSON value `.null` (JSONValue is ExpressibleByNilLiteral), never Optional.none.
    var nilIfNull: JSONValue? {
        if isNull { return nil }
        return self
    }
}

import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func stealth(_ config: JSONValue = [:]) -> PluginSpec {
        var merged: JSONValue = ["encryption_key": .string(StealthTests.encryptionKey)]
        for (key, value) in config.object ?? [:] { merged[key] = value }
        return PluginSpec(name: "stealth", library: "Son1kStealth", config: merged)
    }
}

/// The provider-account router through its services (called by a test plugin as any plugin
/// would) and its routes, then the remote generation engine against a local provider.
@Suite(.serialized) struct StealthTests {
    static let encryptionKey = "stealth-test-key-0123456789abcdef"
    static let t0 = "2026-03-10T12:00:00.000Z"

    /// A server with the router, the test plugin that calls services, and a fake clock.
    static func start(_ config: JSONValue, extra: [PluginSpec] = []) async throws -> (TestKernel, URL) {
        let clock = TestKernel.clockFile()
        try setClock(clock, t0)
        let k = try await TestKernel.start([.hello, .faulty(), .stealth(config)] + extra, environment: ["SON1K_TEST_CLOCK_FILE": clock.path])
        return (k, clock)
    }

    static func addAccount(_ k: TestKernel, _ admin: String, _ body: JSONValue) async throws -> JSONValue {
        let r = try await k.request("POST", "/api/stealth/accounts", token: admin, json: body)
        guard r.status == 201 else { throw TestFailure("account not created: \(r)") }
        return r.json
    }

    static func acquire(_ k: TestKernel, _ admin: String, provider: String = "musicgen") async throws -> JSONValue {
        let r = try await k.request("POST", "/api/faulty/call", token: admin, json: ["service": "stealth.acquire", "input": ["provider": .string(provider)]])
        guard r.status == 200 else { throw TestFailure("acquire: \(r)") }
        return r.json
    }

    static func report(_ k: TestKernel, _ admin: String, _ input: JSONValue) async throws -> TestResponse {
        try await k.request("POST", "/api/faulty/call", token: admin, json: ["service": "stealth.report", "input": input])
    }

    @Test func leasesGoRoundWithinBudgetsAndCooldownsEndOnTheClock() async throws {
        let (k, clock) = try await Self.start(["budget": 5, "cooldown_s": 1800])
        defer { k.stop() }
        let admin = try await k.adminToken()
        var ids: [String] = []
        for n in 1...3 { ids.append(try await Self.addAccount(k, admin, ["label": .string("key-\(n)"), "credential": .string("sk-test-credential-\(n)")])["id"].string!) }

        var counts: [String: Int] = [:]
        var order: [String] = []
        for _ in 1...15 {
            let lease = try await Self.acquire(k, admin)
            #expect(lease["available"] == true && lease["lease_id"].string != nil, "\(lease)")
            counts[lease["account_id"].string ?? "?", default: 0] += 1
            order.append(lease["account_id"].string ?? "?")
        }
        #expect(counts == Dictionary(uniqueKeysWithValues: ids.map { ($0, 5) }))
        #expect(Array(order.prefix(6)) == ids + ids, "round robin in account order")

        let none = try await Self.acquire(k, admin)
        #expect(none["available"] == false && none["reason"] == "all_resting")
        #expect(none["next_available_at"] == "2026-03-10T12:30:00.000Z" && none["retry_after_s"] == 1800, "\(none)")
        let stats = try await k.request("GET", "/api/stealth/stats", token: admin).json
        #expect(stats["total_accounts"] == 3 && stats["active_accounts"] == 3 && stats["in_cooldown"] == 3 && stats["available"] == 0)
        #expect(stats["banned"] == 0 && stats["degraded"] == 0 && stats["rotation_strategy"] == "round_robin")

        try setClock(clock, "2026-03-10T12:29:59.000Z")
        #expect(try await Self.acquire(k, admin)["available"] == false)
        try setClock(clock, "2026-03-10T12:30:00.000Z")
        var back: Set<String> = []
        for _ in 1...3 { back.insert(try await Self.acquire(k, admin)["account_id"].string ?? "?") }
        #expect(back == Set(ids), "every account returns with a fresh budget")
        let account = try await k.request("GET", "/api/stealth/accounts/\(ids[0])", token: admin).json
        #expect(account["request_count"] == 1 && account["stats"]["requests"] == 6 && account["cooldown_until"] == .null)
    }

    @Test func outcomesRestDegradeAndBanAccounts() async throws {
        let (k, clock) = try await Self.start(["degraded_after": 3])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let a = try await Self.addAccount(k, admin, ["label": "a", "credential": "sk-account-a-00001111"])["id"].string!
        let b = try await Self.addAccount(k, admin, ["label": "b", "credential": "sk-account-b-00002222"])["id"].string!

        // 429 with Retry-After 120: a rests exactly 120 s, b takes every lease meanwhile.
        let first = try await Self.acquire(k, admin)
        #expect(first["account_id"] == .string(a))
        let verdict = try await Self.report(k, admin, ["lease_id": first["lease_id"], "outcome": "error", "status_code": 429, "retry_after_s": 120])
        #expect(verdict.json["outcome"] == "rate_limited", "a 429 is a rate limit whatever the reporter called it")
        #expect(try await Self.report(k, admin, ["lease_id": first["lease_id"], "outcome": "ok"]).status == 409, "one report per lease")
        let rested = try await k.request("GET", "/api/stealth/accounts/\(a)", token: admin).json
        #expect(rested["cooldown_until"] == "2026-03-10T12:02:00.000Z" && rested["available"] == false, "\(rested)")
        for _ in 1...3 { #expect(try await Self.acquire(k, admin)["account_id"] == .string(b)) }
        try setClock(clock, "2026-03-10T12:02:00.000Z")
        let returned = try await Self.acquire(k, admin)
        #expect(returned["account_id"] == .string(a), "back after its Retry-After")

        // Rate-limit words in an error body count as a rate limit too.
        let worded = try await Self.report(k, admin, ["lease_id": returned["lease_id"], "outcome": "error", "status_code": 400,
                                                      "body_excerpt": "Quota exceeded for this key"])
        #expect(worded.json["outcome"] == "rate_limited")
        try setClock(clock, "2026-03-10T12:10:00.000Z")

        // Three errors in a row: degraded, and used only when no healthy account is free.
        var health = ""
        for _ in 1...3 {
            var lease = try await Self.acquire(k, admin)
            while lease["account_id"] != .string(a) { lease = try await Self.acquire(k, admin) }
            health = try await Self.report(k, admin, ["lease_id": lease["lease_id"], "outcome": "error", "status_code": 500]).json["health"].string ?? ""
        }
        #expect(health == "degraded")
        for _ in 1...4 { #expect(try await Self.acquire(k, admin)["account_id"] == .string(b)) }
        #expect(try await k.request("GET", "/api/stealth/stats", token: worker).json["degraded"] == 1)
        let out = try await k.request("POST", "/api/stealth/mark-health", token: worker, json: ["account_id": .string(b), "health": "banned", "reason": "revoked"])
        #expect(out.status == 200 && out.json["health"] == "banned")
        let fallback = try await Self.acquire(k, admin)
        #expect(fallback["account_id"] == .string(a), "a degraded account serves when no healthy one is free")

        // 401: banned, never leased again — not even days later — until an admin restores it.
        #expect(try await Self.report(k, admin, ["lease_id": fallback["lease_id"], "outcome": "error", "status_code": 401]).json["health"] == "banned")
        let none = try await Self.acquire(k, admin)
        #expect(none["available"] == false && none["reason"] == "none_usable" && none["next_available_at"] == .null, "\(none)")
        try setClock(clock, "2026-03-20T12:00:00.000Z")
        #expect(try await Self.acquire(k, admin)["available"] == false)
        let stats = try await k.request("GET", "/api/stealth/stats", token: admin).json
        #expect(stats["banned"] == 2 && stats["active_accounts"] == 0 && stats["available"] == 0 && stats["in_cooldown"] == 0, "\(stats)")
        let refused = try await k.request("POST", "/api/stealth/mark-health", token: worker, json: ["account_id": .string(a), "health": "healthy"])
        #expect(refused.status == 403 && refused.json["code"] == "admin_only")
        let restored = try await k.request("POST", "/api/stealth/mark-health", token: admin, json: ["account_id": .string(a), "health": "healthy"])
        #expect(restored.json["health"] == "healthy" && restored.json["consecutive_errors"] == 0)
        #expect(try await Self.acquire(k, admin)["account_id"] == .string(a))
    }

    @Test func aThousandConcurrentLeasesExceedNoBudget() async throws {
        let (k, _) = try await Self.start(["budget": 50])
        defer { k.stop() }
        let admin = try await k.adminToken()
        for n in 1...4 { _ = try await Self.addAccount(k, admin, ["label": .string("k\(n)"), "credential": .string("sk-concurrent-\(n)-abcdef")]) }
        let leases = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for _ in 0..<1000 { group.addTask { try await Self.acquire(k, admin) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var perAccount: [String: Int] = [:]
        for lease in leases where lease["available"] == true { perAccount[lease["account_id"].string ?? "?", default: 0] += 1 }
        #expect(perAccount.count == 4 && perAccount.values.allSatisfy { $0 == 50 }, "\(perAccount)")
        #expect(leases.filter { $0["available"] == false }.count == 800)
        let stored = try await k.values("SELECT request_count FROM stealth_accounts").compactMap(\.int)
        #expect(stored == [50, 50, 50, 50])
        let leaseRows = try await k.integer("SELECT COUNT(*) AS n FROM stealth_leases")
        #expect(leaseRows == 200)
    }

    @Test func credentialsAndProxyPasswordsNeverLeave() async throws {
        let credential = "sk-live-Zq8SECRETvalue7731abcd"
        let proxyPassword = "Pr0xyPassw0rd-5521"
        let rotated = "sk-live-ROTATEDsecret9902wxyz"
        let importFile = FileManager.default.temporaryDirectory.appendingPathComponent("stealth-accounts-\(UUID().uuidString).json")
        let imported = "tok_IMPORTEDsecret4455qrst"
        try JSONValue.object(["accounts": [
            ["email": "ops@example.com", "api_key": .string(imported),
             "proxy": ["host": "127.0.0.1", "port": 3128, "username": "ops", "password": .string(proxyPassword)]],
        ]]).encoded().write(to: importFile)
        defer { try? FileManager.default.removeItem(at: importFile) }
        let (k, _) = try await Self.start(["import_file": .string(importFile.path)])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let user = try await k.register("curious")

        let created = try await Self.addAccount(k, admin, ["label": "main", "credential": .string(credential),
                                                           "proxy": .string("http://alice:\(proxyPassword)@127.0.0.1:3128")])
        #expect(created["credential"] == "sk-…abcd" && created["proxy"] == "http://alice@127.0.0.1:3128", "\(created)")
        let id = created["id"].string!
        let list = try await k.request("GET", "/api/stealth/accounts", token: worker).json
        let importedView = list["data"].array?.first { $0["label"] == "ops@example.com" }
        #expect(importedView?["credential"] == "tok_…qrst" && importedView?["proxy"] == "http://ops@127.0.0.1:3128", "\(list)")

        // An upstream error body that echoes the key is stored redacted.
        let lease = try await Self.acquire(k, admin)
        #expect(lease["headers"]["Authorization"].string?.hasPrefix("Bearer ") == true, "the lease itself carries the credential, in-process")
        _ = try await Self.report(k, admin, ["lease_id": lease["lease_id"], "outcome": "error", "status_code": 500,
                                             "body_excerpt": .string("bad key \(lease["label"] == "main" ? credential : imported) via \(proxyPassword)")])

        var bodies: [String] = []
        for (method, path, body) in [
            ("GET", "/api/stealth/accounts", nil), ("GET", "/api/stealth/accounts/\(id)", nil), ("GET", "/api/stealth/stats", nil),
            ("GET", "/api/stealth/health", nil), ("POST", "/api/stealth/request-headers", [:]), ("POST", "/api/stealth/rotate", [:]),
            ("POST", "/api/stealth/mark-health", ["account_id": .string(id), "health": "degraded"]),
            ("PATCH", "/api/stealth/accounts/\(id)", ["credential": .string(rotated), "proxy": .string("http://alice:\(proxyPassword)@127.0.0.1:3129")]),
            ("GET", "/openapi.json", nil), ("GET", "/api/plugins", nil),
        ] as [(String, String, JSONValue?)] {
            let r = try await k.request(method, path, token: admin, json: body)
            #expect(r.status == 200, "\(method) \(path): \(r)")
            bodies.append(String(decoding: r.body, as: UTF8.self))
        }
        let headers = try await k.request("POST", "/api/stealth/request-headers", token: worker, json: [:]).json
        #expect(headers["headers"]["Authorization"].string?.hasPrefix("Bearer ") == true && headers["headers"]["Authorization"].string?.contains("…") == true)
        let secrets = [credential, proxyPassword, rotated, imported, Self.encryptionKey]
        for (n, body) in bodies.enumerated() {
            for secret in secrets { #expect(!body.contains(secret), "response \(n) shows a secret: \(body.prefix(300))") }
        }
        for secret in secrets { #expect(!k.log.contains(secret), "the log shows a secret") }
        #expect(bodies[0].contains("bad key *** via ***"), "the echoed key is redacted in last_error")

        // At rest: sealed, not the plain text.
        let columns = try await k.values("SELECT credential_sealed || ' ' || COALESCE(proxy_sealed, '') AS sealed FROM stealth_accounts").compactMap(\.string)
        for row in columns { for secret in secrets { #expect(!row.contains(secret)) } }

        // Users and anonymous callers reach no stealth route; workers read but do not change accounts.
        let paths = try await k.request("GET", "/openapi.json").json["paths"].object ?? [:]
        var checked = 0
        for (path, operations) in paths where path.hasPrefix("/api/stealth") {
            for method in (operations.object ?? [:]).keys {
                let concrete = path.replacingOccurrences(of: "{id}", with: id)
                let body: JSONValue? = ["get", "delete"].contains(method) ? nil : [:]
                let anonymous = try await k.request(method.uppercased(), concrete, json: body)
                let plain = try await k.request(method.uppercased(), concrete, token: user.token, json: body)
                #expect(anonymous.status == 401 && plain.status == 403, "\(method) \(path): \(anonymous.status) / \(plain.status)")
                checked += 1
            }
        }
        #expect(checked == 10, "every stealth route was tried")
        #expect(try await k.request("POST", "/api/stealth/accounts", token: worker, json: ["label": "w", "credential": "x"]).status == 403)
        #expect(try await k.request("DELETE", "/api/stealth/accounts/\(id)", token: worker).status == 403)
        #expect(try await k.request("DELETE", "/api/stealth/accounts/\(id)", token: admin).status == 204)
    }

    @Test func theRemoteEngineSpreadsJobsOverAccountsAndRidesOutA429() async throws {
        let keyOne = "key-one-aaaa1111"
        let keyTwo = "key-two-bbbb2222"
        let proxyPassword = "ppass-Secret-8810"
        let provider = try await PythonServer.start("provider_fake", arguments: [JSONValue.object([
            "keys": [.init(keyOne): ["rate_limit_after": 3, "retry_after": 120], .init(keyTwo): [:]],
            "proxy_auth": .string("puser:\(proxyPassword)"),
        ]).jsonString])
        defer { provider.stop() }
        let k = try await TestKernel.start([
            .generation(["builtin_workers": 2, "default_engine": "remote", "remote_provider": "musicgen",
                         "egress_hosts": .array([.string("127.0.0.1:\(provider.port)")]), "retry_base_ms": 100]),
            .stealth(["providers": ["musicgen": ["base_url": .string(provider.base)]]]),
        ])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let one = try await Self.addAccount(k, admin, ["label": "one", "credential": .string(keyOne)])["id"].string!
        _ = try await Self.addAccount(k, admin, ["label": "two", "credential": .string(keyTwo),
                                                 "proxy": .string("http://puser:\(proxyPassword)@127.0.0.1:\(provider.port)")])
        let me = try await k.register("remote-user")
        var jobs: [String] = []
        for n in 0..<8 {
            jobs.append(try await k.generate(me.token, ["prompt": .string("remote song \(n)"), "duration_s": 5, "seed": .number(Double(100 + n))])["id"].string!)
        }
        for id in jobs {
            let done = try await k.job(id, me.token, until: ["completed"], timeout: .seconds(90))
            #expect(done["engine"] == "remote" && done["result"]["provider"] == "musicgen" && done["result"]["model"] == "fake-musicgen-small")
        }
        let audio = try await k.request("GET", "/api/generations/\(jobs[0])/audio", token: me.token)
        #expect(audio.status == 200 && audio.body.starts(with: Array("RIFF".utf8)) && audio.body.count > 40_000)

        let received = try await provider.requests()
        let byKey = Dictionary(grouping: received.filter { $0["path"] == "/generate" }, by: { $0["key"].string ?? "?" })
        #expect(byKey[keyOne]?.count == 4 && byKey[keyOne]?.last?["status"] == 429, "three served, the fourth refused")
        #expect(byKey[keyTwo]?.count == 5 && byKey[keyTwo]?.allSatisfy { $0["status"] == 200 } == true)
        #expect(byKey[keyTwo]?.allSatisfy { $0["proxied"] == true } == true && byKey[keyOne]?.allSatisfy { $0["proxied"] == false } == true,
                "the proxied account's requests went through its proxy, the other's directly")
        let sent = received.first { $0["status"] == 200 }
        #expect(sent?["body"]["prompt"].string?.hasPrefix("remote song") == true && sent?["body"]["duration"] == 5 && sent?["content_type"] == "application/json")
        #expect(sent?["body"]["seed"].int.map { (100..<108).contains($0) } == true)

        let rested = try await k.request("GET", "/api/stealth/accounts/\(one)", token: admin).json
        #expect(rested["available"] == false && rested["stats"]["rate_limited"] == 1 && rested["cooldown_reason"].string?.contains("429") == true, "\(rested)")
        for secret in [keyOne, keyTwo, proxyPassword] { #expect(!k.log.contains(secret), "the log shows a secret") }
    }
}

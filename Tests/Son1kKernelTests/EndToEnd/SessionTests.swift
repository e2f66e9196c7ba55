import Foundation
import Son1kPluginKit
import Testing

/// Sessions a user can see and end, password changes, personal API keys, and the first
/// admin's password kept out of the log.
@Suite struct SessionTests {
    static func login(_ k: TestKernel, _ email: String, _ password: String = "password-123", agent: String = "test") async throws -> TestResponse {
        try await k.request("POST", "/api/auth/login", json: ["email": .string(email), "password": .string(password)], headers: ["User-Agent": agent])
    }

    static func me(_ k: TestKernel, _ token: String) async throws -> Int {
        try await k.request("GET", "/api/auth/me", token: token).status
    }

    @Test func aRevokedOrSignedOutSessionsTokenIsRefusedAtOnceAndTheOthersGoOn() async throws {
        let k = try await TestKernel.start([])
        defer { k.stop() }
        let a = try await k.register("sessions")
        let phone = try await Self.login(k, "sessions@test.local", agent: "phone/1.0")
        let laptop = try await Self.login(k, "sessions@test.local", agent: "laptop/2.0")
        guard let b = phone.json["token"].string, let c = laptop.json["token"].string else { throw TestFailure("login failed: \(phone) \(laptop)") }
        for token in [a.token, b, c] { #expect(try await Self.me(k, token) == 200) }

        let listed = try await k.request("GET", "/api/auth/sessions", token: a.token)
        let items = listed.json["items"].array ?? []
        #expect(items.count == 3, "\(listed)")
        #expect(items.filter { $0["current"] == true }.count == 1)
        #expect(items.allSatisfy { $0["last_used_at"].string != nil && $0["created_at"].string != nil && $0["ip"] == "127.0.0.1" })
        guard let phoneSession = items.first(where: { $0["user_agent"] == "phone/1.0" })?["id"].string else { throw TestFailure("no phone session in \(listed)") }
        let page = try await k.request("GET", "/api/auth/sessions?limit=2", token: a.token)
        #expect(page.json["items"].array?.count == 2 && page.json["next_cursor"].string != nil)

        // Another user cannot end it, and it still works until its owner does.
        let other = try await k.register("stranger")
        #expect(try await k.request("DELETE", "/api/auth/sessions/\(phoneSession)", token: other.token).status == 404)
        #expect(try await Self.me(k, b) == 200)
        #expect(try await k.request("DELETE", "/api/auth/sessions/\(phoneSession)", token: a.token).status == 204)
        #expect(try await Self.me(k, b) == 401, "the revoked session's token, just used, is refused on the very next request")
        #expect(try await k.request("DELETE", "/api/auth/sessions/\(phoneSession)", token: a.token).status == 404)

        #expect(try await k.request("POST", "/api/auth/logout", token: c).status == 204)
        #expect(try await Self.me(k, c) == 401)
        #expect(try await k.request("POST", "/api/auth/refresh", token: c).status == 401)
        #expect(try await Self.me(k, a.token) == 200, "signing out elsewhere leaves this session alone")

        // A refresh gives a new token of the same session: signing out ends both.
        let refreshed = try await k.request("POST", "/api/auth/refresh", token: a.token)
        guard let a2 = refreshed.json["token"].string else { throw TestFailure("refresh failed: \(refreshed)") }
        #expect(try await Self.me(k, a2) == 200)
        #expect(try await k.request("GET", "/api/auth/sessions", token: a2).json["items"].array?.count == 1)
        #expect(try await k.request("POST", "/api/auth/logout", token: a2).status == 204)
        #expect(try await Self.me(k, a.token) == 401)
        #expect(try await Self.me(k, a2) == 401)
    }

    @Test func aPasswordChangeEndsEveryOtherSession() async throws {
        let k = try await TestKernel.start([])
        defer { k.stop() }
        let a = try await k.register("changer")
        guard let b = try await Self.login(k, "changer@test.local").json["token"].string else { throw TestFailure("login failed") }
        let wrong = try await k.request("POST", "/api/auth/password", token: a.token, json: ["current_password": "not-it-at-all", "new_password": "new-password-456"])
        #expect(wrong.status == 403 && wrong.json["code"] == "wrong_password", "\(wrong)")
        let short = try await k.request("POST", "/api/auth/password", token: a.token, json: ["current_password": "password-123", "new_password": "short"])
        #expect(short.status == 422, "\(short)")
        #expect(try await Self.me(k, b) == 200, "a refused change ends nothing")

        let changed = try await k.request("POST", "/api/auth/password", token: a.token, json: ["current_password": "password-123", "new_password": "new-password-456"])
        #expect(changed.status == 204, "\(changed)")
        #expect(try await Self.me(k, a.token) == 200, "the session that changed it stays")
        #expect(try await Self.me(k, b) == 401, "every other session ends")
        #expect(try await Self.login(k, "changer@test.local").status == 401)
        #expect(try await Self.login(k, "changer@test.local", "new-password-456").status == 200)
    }

    @Test func personalAPIKeysActAsTheirUserAreShownOnceAndStopWhenRevoked() async throws {
        let k = try await TestKernel.start([])
        defer { k.stop() }
        let dev = try await k.register("developer")
        let created = try await k.request("POST", "/api/auth/keys", token: dev.token, json: ["name": "my script"])
        #expect(created.status == 201, "\(created)")
        guard let key = created.json["token"].string, let keyID = created.json["id"].string else { throw TestFailure("no key in \(created)") }
        #expect(key.hasPrefix("s1k.\(keyID)."))

        let me = try await k.request("GET", "/api/auth/me", token: key)
        #expect(me.status == 200 && me.json["id"].string == dev.id, "\(me)")
        #expect(try await k.request("GET", "/api/admin/users", token: key).status == 403, "a user's key has a user's rights")
        let minted = try await k.request("POST", "/api/auth/keys", token: key, json: ["name": "another"])
        #expect(minted.status == 403 && minted.json["code"] == "session_required", "a key cannot mint keys: \(minted)")
        #expect(try await k.request("POST", "/api/auth/password", token: key, json: ["current_password": "password-123", "new_password": "x-password-789"]).status == 403)

        let listed = try await k.request("GET", "/api/auth/keys", token: dev.token)
        let entry = listed.json["items"].array?.first
        #expect(entry?["id"].string == keyID && entry?["name"] == "my script" && entry?["prefix"].string == "s1k.\(keyID)", "\(listed)")
        #expect(entry?["last_used_at"].string != nil, "the use above is recorded")
        #expect(!listed.text.contains(String(key.split(separator: ".").last ?? "")), "the secret is never shown again")
        let other = try await k.register("bystander")
        #expect(try await k.request("GET", "/api/auth/keys", token: other.token).json["items"].array?.isEmpty == true)
        #expect(try await k.request("DELETE", "/api/auth/keys/\(keyID)", token: other.token).status == 404)

        #expect(try await k.request("DELETE", "/api/auth/keys/\(keyID)", token: dev.token).status == 204)
        #expect(try await Self.me(k, key) == 401)
        #expect(try await k.request("GET", "/api/auth/keys", token: dev.token).json["items"].array?.isEmpty == true)
    }

    @Test func theAdminPasswordFromTheEnvironmentIsNeverPrintedAndAGeneratedOneIsPrintedOnce() async throws {
        let given = try await TestKernel.start([])
        defer { given.stop() }
        _ = try await given.adminToken()
        #expect(try await given.request("POST", "/api/auth/login", json: ["email": "admin@test.local", "password": "wrong-password"]).status == 401)
        #expect(given.log.contains("created the admin account"), "\(given.log)")
        #expect(!given.log.contains(TestKernel.adminPassword), "SON1K_ADMIN_PASSWORD appears in the output")

        let generated = try await TestKernel.start([], environment: ["SON1K_ADMIN_PASSWORD": ""])
        defer { generated.stop() }
        guard let line = generated.log.split(separator: "\n").first(where: { $0.contains("password:") }),
              let password = line.split(separator: " ").last.map(String.init) else { throw TestFailure("no generated password in \(generated.log)") }
        let login = try await generated.request("POST", "/api/auth/login", json: ["email": "admin@test.local", "password": .string(password)])
        #expect(login.status == 200 && login.json["user"]["role"] == "admin", "\(login)")
        // A restart on the same data creates nothing and prints nothing.
        let restart = try await generated.terminate(timeout: .seconds(30))
        #expect(restart.exited)
        try await generated.launch()
        #expect(!generated.log.contains(password) && !generated.log.contains("created the admin account"))
    }
}

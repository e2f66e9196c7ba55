import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

/// Every kernel route answered for five callers: nobody, a user, another user, a worker
/// token and an admin. Each expectation is the documented status.
@Suite struct AuthMatrixTests {
    struct Case {
        var method: String
        var path: String
        var body: JSONValue? = nil
        /// none, owner (alice), other user (bob), worker, admin
        var expected: [Int]
    }

    @Test func everyKernelRouteAnswersEachKindOfCallerAsDocumented() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let alice = try await k.register("alice")
        let bob = try await k.register("bob")
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let avatar = try await k.request("PUT", "/api/hello/avatar", token: alice.token, body: Array(repeating: 7, count: 64),
                                         headers: ["Content-Type": "image/png"])
        #expect(avatar.status == 201)
        let blob = avatar.json["id"].string!

        var counter = 0
        func fresh() -> JSONValue {
            counter += 1
            return ["email": .string("new\(counter)@test.local"), "username": .string("new\(counter)"), "password": "password-123"]
        }
        let cases: [Case] = [
            Case(method: "GET", path: "/health", expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/ready", expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/metrics", expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/openapi.json", expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/docs", expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/api/plugins", expected: [200, 200, 200, 200, 200]),
            Case(method: "POST", path: "/api/auth/login", body: ["email": "alice@test.local", "password": "password-123"], expected: [200, 200, 200, 200, 200]),
            Case(method: "GET", path: "/api/auth/me", expected: [401, 200, 200, 403, 200]),
            Case(method: "GET", path: "/api/users/\(alice.id)", expected: [401, 200, 403, 403, 200]),
            Case(method: "GET", path: "/api/admin/users", expected: [401, 403, 403, 403, 200]),
            Case(method: "PATCH", path: "/api/admin/users/\(alice.id)", body: ["role": "user"], expected: [401, 403, 403, 403, 200]),
            Case(method: "POST", path: "/api/admin/tokens", body: ["name": "t", "role": "worker"], expected: [401, 403, 403, 403, 201]),
            Case(method: "GET", path: "/api/admin/events", expected: [401, 403, 403, 403, 200]),
            Case(method: "POST", path: "/api/admin/events/evt_missing/retry", expected: [401, 403, 403, 403, 404]),
            Case(method: "GET", path: "/api/blobs/\(blob)", expected: [404, 200, 404, 404, 200]),
            // Without a signature nobody reads through the media route, an admin neither.
            Case(method: "GET", path: "/api/media/\(blob)", expected: [403, 403, 403, 403, 403]),
            Case(method: "GET", path: "/api/events/ws", expected: [401, 426, 426, 403, 426]),
        ]
        let callers: [String?] = [nil, alice.token, bob.token, worker, admin]
        let names = ["nobody", "owner", "other user", "worker", "admin"]
        for c in cases {
            for (i, token) in callers.enumerated() {
                let r = try await k.request(c.method, c.path, token: token, json: c.body)
                #expect(r.status == c.expected[i], "\(c.method) \(c.path) as \(names[i]): \(r)")
                if r.status >= 400 { #expect(r.headers["content-type"] == "application/problem+json", "\(c.method) \(c.path)") }
            }
        }
        // Registration is public and works for anyone (a fresh account each time).
        for token in callers { #expect(try await k.request("POST", "/api/auth/register", token: token, json: fresh()).status == 201) }
    }

    @Test func forgedExpiredAndMalformedTokensAreRefused() async throws {
        let secret = "a-test-secret-of-enough-length"
        let k = try await TestKernel.start([.hello], environment: ["SON1K_JWT_SECRET": secret])
        defer { k.stop() }
        let user = try await k.register("eve")
        let expired = JWTSigner(secret: secret, ttlSeconds: 60).sign(subject: user.id, role: "user", session: "ses_x", now: Date().addingTimeInterval(-3600))
        let forged = JWTSigner(secret: "another-secret", ttlSeconds: 60).sign(subject: user.id, role: "admin", session: "ses_x")
        let noneAlg = Crypto.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + user.token.split(separator: ".")[1] + "."
        for token in [expired, forged, noneAlg, "garbage", "s1k.tok_x.secret"] {
            let r = try await k.request("GET", "/api/auth/me", token: token)
            #expect(r.status == 401, "token \(token.prefix(20)): \(r)")
            #expect(r.json["code"] == "invalid_token")
        }
        #expect(try await k.request("GET", "/api/auth/me", token: user.token).json["id"] == .string(user.id))
    }

    @Test func aDemotedAdminLosesAdminRoutesAtOnce() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let carol = try await k.register("carol")
        #expect(try await k.request("PATCH", "/api/admin/users/\(carol.id)", token: admin, json: ["role": "admin"]).json["role"] == "admin")
        #expect(try await k.request("GET", "/api/admin/users", token: carol.token).status == 200)
        #expect(try await k.request("PATCH", "/api/admin/users/\(carol.id)", token: admin, json: ["role": "user"]).status == 200)
        #expect(try await k.request("GET", "/api/admin/users", token: carol.token).status == 403)
    }

    @Test func loginIsRateLimitedPerAccount() async throws {
        let k = try await TestKernel.start([.hello], kernel: ["login": ["max_failures_per_account": 3, "max_failures_per_ip": 100, "window_s": 600]])
        defer { k.stop() }
        _ = try await k.register("fred")
        for _ in 0..<3 {
            #expect(try await k.request("POST", "/api/auth/login", json: ["email": "fred@test.local", "password": "wrong-pass"]).status == 401)
        }
        let limited = try await k.request("POST", "/api/auth/login", json: ["email": "fred@test.local", "password": "password-123"])
        #expect(limited.status == 429)
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 > 0)
        // Another account is unaffected.
        _ = try await k.register("gina")
        #expect(try await k.request("POST", "/api/auth/login", json: ["email": "gina@test.local", "password": "password-123"]).status == 200)
    }

    @Test func loginIsRateLimitedPerClientAddressWhichTheClientCannotSpoof() async throws {
        let k = try await TestKernel.start([.hello], kernel: ["login": ["max_failures_per_account": 100, "max_failures_per_ip": 4, "window_s": 600]])
        defer { k.stop() }
        _ = try await k.register("nina")
        for i in 0..<4 {
            let r = try await k.request("POST", "/api/auth/login", json: ["email": .string("nobody\(i)@test.local"), "password": "wrong-pass"],
                                        headers: ["X-Son1k-Peer": "10.0.0.\(i)", "X-Forwarded-For": "10.0.1.\(i)"])
            #expect(r.status == 401)
        }
        // Every attempt came from 127.0.0.1 whatever the headers said: the address is now limited.
        let limited = try await k.request("POST", "/api/auth/login", json: ["email": "nina@test.local", "password": "password-123"],
                                          headers: ["X-Son1k-Peer": "192.0.2.1"])
        #expect(limited.status == 429)
        #expect(limited.json["code"] == "too_many_login_attempts")
    }

    @Test func registrationRejectsDuplicatesAndInvalidFields() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        _ = try await k.register("hank")
        let dup = try await k.request("POST", "/api/auth/register", json: ["email": "HANK@test.local", "username": "hank2", "password": "password-123"])
        #expect(dup.status == 409)
        #expect(dup.json["code"] == "email_taken")
        let short = try await k.request("POST", "/api/auth/register", json: ["email": "i@test.local", "username": "ivan", "password": "short"])
        #expect(short.status == 422)
        #expect(short.json["detail"].string?.hasPrefix("password:") == true)
        let missing = try await k.request("POST", "/api/auth/register", json: ["email": "j@test.local"])
        #expect(missing.status == 422)
        #expect(missing.json["detail"] == "username: is required.")
    }
}

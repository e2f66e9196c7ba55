import Foundation
import Son1kPluginKit
import Testing

/// A browser page on another origin: its preflight and its request, as the Fetch standard
/// has the browser send them, against a plugin route and a kernel route.
@Suite struct CORSTests {
    static let app = "https://app.example"
    static let other = "https://evil.example"

    func preflight(_ k: TestKernel, _ method: String, _ path: String, origin: String, headers: String = "authorization, content-type") async throws -> TestResponse {
        try await k.request("OPTIONS", path, headers: ["Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers])
    }

    @Test func aListedOriginPassesThePreflightAndReadsTheAnswerOfPluginAndKernelRoutes() async throws {
        // The environment variable, as an operator sets it, wins over the file's empty list.
        let k = try await TestKernel.start([.hello], environment: ["SON1K_CORS_ORIGINS": "\(Self.app), http://localhost:5173"])
        defer { k.stop() }
        let user = try await k.register("cora")
        for (method, path) in [("POST", "/api/hello/greetings"), ("GET", "/api/auth/me")] {
            let pre = try await preflight(k, method, path, origin: Self.app)
            #expect(pre.status == 204, "\(path): \(pre)")
            #expect(pre.headers["access-control-allow-origin"] == Self.app)
            #expect(pre.headers["access-control-allow-credentials"] == "true")
            let methods = (pre.headers["access-control-allow-methods"] ?? "").components(separatedBy: ", ")
            #expect(methods.contains(method) && methods.contains("OPTIONS"), "\(path): \(methods)")
            let allowedHeaders = (pre.headers["access-control-allow-headers"] ?? "").lowercased()
            #expect(allowedHeaders.contains("authorization") && allowedHeaders.contains("content-type"))
            #expect(pre.headers["access-control-max-age"] == "600")
            #expect(pre.headers["vary"]?.contains("Origin") == true)

            let actual = try await k.request(method, path, token: user.token, json: method == "POST" ? ["name": "Ada"] : nil,
                                             headers: ["Origin": Self.app])
            #expect((200...201).contains(actual.status), "\(path): \(actual)")
            #expect(actual.headers["access-control-allow-origin"] == Self.app)
            #expect(actual.headers["access-control-expose-headers"]?.contains("X-Request-Id") == true)
            #expect(actual.headers["vary"]?.contains("Origin") == true)
        }
        // The path's own methods, not a fixed list: /api/auth/me accepts GET (and HEAD) only.
        let me = try await preflight(k, "GET", "/api/auth/me", origin: Self.app)
        #expect(!(me.headers["access-control-allow-methods"] ?? "").contains("POST"))
        // A second listed origin, compared without case.
        let dev = try await preflight(k, "GET", "/api/auth/me", origin: "http://LOCALHOST:5173")
        #expect(dev.status == 204)
    }

    @Test func anOriginNotListedIsRefusedAndItsAnswersCarryNoCORSHeaders() async throws {
        let k = try await TestKernel.start([.hello], kernel: ["cors_origins": [.string(Self.app)]])
        defer { k.stop() }
        let user = try await k.register("cato")
        for (method, path) in [("POST", "/api/hello/greetings"), ("GET", "/api/auth/me")] {
            let pre = try await preflight(k, method, path, origin: Self.other)
            #expect(pre.status == 403, "\(path): \(pre)")
            #expect(pre.json["code"] == "cors_origin_not_allowed")
            #expect(pre.headers["content-type"] == "application/problem+json")
            #expect(pre.headers["access-control-allow-origin"] == nil)
            // The request itself still runs (CORS is the browser's rule; curl is not bound by
            // it) but carries nothing that lets a page read it.
            let actual = try await k.request(method, path, token: user.token, json: method == "POST" ? ["name": "Eve"] : nil,
                                             headers: ["Origin": Self.other])
            #expect(actual.headers["access-control-allow-origin"] == nil)
            #expect(actual.headers["access-control-allow-credentials"] == nil)
        }
        // A method the path lacks, and a path that does not exist.
        let wrong = try await preflight(k, "DELETE", "/api/auth/me", origin: Self.app)
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"]?.contains("GET") == true)
        let missing = try await preflight(k, "GET", "/api/nowhere", origin: Self.app)
        #expect(missing.status == 404)
        // OPTIONS without preflight headers says which methods the path takes.
        let plain = try await k.request("OPTIONS", "/api/hello/greetings")
        #expect(plain.status == 204)
        #expect(plain.headers["allow"] == "GET, HEAD, POST, OPTIONS")
    }

    @Test func aWildcardAllowsAnyOriginWithoutCredentials() async throws {
        let k = try await TestKernel.start([.hello], environment: ["SON1K_CORS_ORIGINS": "*"])
        defer { k.stop() }
        let pre = try await preflight(k, "GET", "/api/hello/x", origin: Self.other)
        #expect(pre.status == 204)
        #expect(pre.headers["access-control-allow-origin"] == "*")
        #expect(pre.headers["access-control-allow-credentials"] == nil)
        let actual = try await k.request("GET", "/api/hello/x", headers: ["Origin": Self.other])
        #expect(actual.headers["access-control-allow-origin"] == "*")
        #expect(actual.headers["vary"] == nil)
    }

    @Test func withoutOriginsConfiguredThereAreNoCORSHeaders() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let pre = try await preflight(k, "GET", "/api/hello/x", origin: Self.app)
        #expect(pre.status == 403)
        let actual = try await k.request("GET", "/api/hello/x", headers: ["Origin": Self.app])
        #expect(actual.status == 200)
        #expect(actual.headers["access-control-allow-origin"] == nil)
    }
}

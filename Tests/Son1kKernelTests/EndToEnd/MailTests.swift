import Foundation
import Son1kPluginKit
import Testing

/// Password reset and e-mail verification through a real SMTP server (aiosmtpd, STARTTLS
/// with its own certificate, AUTH required), read back from what it received.
@Suite struct MailTests {
    /// A message as the receiver wrote it: envelope, headers, and the decoded text.
    struct Received {
        var to: String
        var headers: [String: String]
        var text: String
        /// The one-time token in the message's link.
        var token: String? {
            guard let range = text.range(of: #"token=[A-Za-z0-9_-]+"#, options: .regularExpression) else { return nil }
            return String(text[range].dropFirst("token=".count))
        }
    }

    /// The SMTP receiver and a kernel sending through it.
    struct Setup {
        var smtp: PythonServer
        var kernel: TestKernel
        var spool: URL
        var clock: URL

        static let smtpPassword = "smtp-secret-9f3a"

        static func start() async throws -> Setup {
            let spool = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-mail-\(UUID().uuidString)")
            let smtp = try await PythonServer.start("smtp_receiver", arguments: [spool.path, "son1k", smtpPassword])
            let clock = spool.appendingPathComponent("clock")
            let kernel = try await TestKernel.start([], kernel: ["mail": ["links": ["password_reset": "https://app.test/reset?token={{token}}"]]], environment: [
                "SON1K_SMTP_HOST": "localhost", "SON1K_SMTP_PORT": String(smtp.port), "SON1K_SMTP_USERNAME": "son1k",
                "SON1K_SMTP_PASSWORD": smtpPassword, "SON1K_SMTP_FROM": "son1k <no-reply@son1k.test>",
                "SON1K_SMTP_CA_FILE": smtp.info["ca_file"].string ?? "", "SON1K_PUBLIC_URL": "https://api.son1k.test",
                "SON1K_TEST_CLOCK_FILE": clock.path,
            ])
            return Setup(smtp: smtp, kernel: kernel, spool: spool, clock: clock)
        }

        func stop() {
            kernel.stop()
            smtp.stop()
            try? FileManager.default.removeItem(at: spool)
        }

        /// Every message received so far, oldest first.
        func received() throws -> [Received] {
            let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".eml") }.sorted()
            return try names.map { try Self.parse(String(contentsOf: spool.appendingPathComponent($0), encoding: .utf8)) }
        }

        /// Wait for the `count`-th message to `to` with `subject` in its subject.
        func message(to: String, containing subject: String, count: Int = 1) async throws -> Received {
            try await poll("message \(count) '\(subject)' to \(to)", timeout: .seconds(20)) {
                let matching = try received().filter { $0.to == to && ($0.headers["subject"] ?? "").contains(subject) }
                return matching.count >= count ? matching[count - 1] : nil
            }
        }

        static func parse(_ raw: String) throws -> Received {
            let normalized = raw.replacingOccurrences(of: "\r\n", with: "\n")
            guard let split = normalized.range(of: "\n\n") else { throw TestFailure("no body in \(raw)") }
            var headers: [String: String] = [:]
            for line in normalized[..<split.lowerBound].split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let body = String(normalized[split.upperBound...]).replacingOccurrences(of: "\n", with: "")
            guard headers["content-transfer-encoding"] == "base64", let data = Data(base64Encoded: body) else { throw TestFailure("not a base64 body: \(raw)") }
            return Received(to: headers["x-envelope-to"] ?? "", headers: headers, text: String(decoding: data, as: UTF8.self))
        }

        /// Move the kernel's clock `seconds` ahead of now.
        func stepClock(_ seconds: Double) throws {
            try String(Int64((Date().timeIntervalSince1970 + seconds) * 1000)).write(to: clock, atomically: true, encoding: .utf8)
        }
    }

    @Test func aResetLinkArrivesWorksOnceAndIsRefusedAfterUseAndAfterExpiry() async throws {
        let s = try await Setup.start()
        defer { s.stop() }
        let k = s.kernel
        let user = try await k.register("resetter")

        let unknown = try await k.request("POST", "/api/auth/password/reset", json: ["email": "nobody@test.local"])
        let known = try await k.request("POST", "/api/auth/password/reset", json: ["email": "Resetter@test.local"])
        #expect(unknown.status == 202 && known.status == 202, "\(unknown) \(known)")
        #expect(unknown.text == known.text, "the answer does not tell whether the address has an account")

        let mail = try await s.message(to: "resetter@test.local", containing: "Reset")
        #expect(mail.headers["from"] == "son1k <no-reply@son1k.test>" && mail.headers["message-id"]?.hasSuffix("@son1k>") == true)
        #expect(mail.text.contains("Hello resetter") && mail.text.contains("https://app.test/reset?token=") && mail.text.contains("60 minutes"), "\(mail.text)")
        guard let token = mail.token else { throw TestFailure("no token in \(mail.text)") }
        // Mail leaves in order: the unknown address's request came first and sent nothing.
        #expect(try s.received().allSatisfy { $0.to != "nobody@test.local" })

        let weak = try await k.request("POST", "/api/auth/password/reset/confirm", json: ["token": .string(token), "new_password": "short"])
        #expect(weak.status == 422, "\(weak)")
        let done = try await k.request("POST", "/api/auth/password/reset/confirm", json: ["token": .string(token), "new_password": "reset-password-77"])
        #expect(done.status == 204, "\(done)")
        #expect(try await k.request("GET", "/api/auth/me", token: user.token).status == 401, "a reset ends every session")
        #expect(try await SessionTests.login(k, "resetter@test.local", "reset-password-77").status == 200)
        let again = try await k.request("POST", "/api/auth/password/reset/confirm", json: ["token": .string(token), "new_password": "another-password-88"])
        #expect(again.status == 400 && again.json["code"] == "link_invalid", "used once: \(again)")

        // A second link, used after its hour is up.
        #expect(try await k.request("POST", "/api/auth/password/reset", json: ["email": "resetter@test.local"]).status == 202)
        guard let late = try await s.message(to: "resetter@test.local", containing: "Reset", count: 2).token else { throw TestFailure("no second token") }
        try s.stepClock(3601)
        let expired = try await k.request("POST", "/api/auth/password/reset/confirm", json: ["token": .string(late), "new_password": "another-password-88"])
        #expect(expired.status == 400 && expired.json["code"] == "link_invalid", "expired: \(expired)")
        #expect(try await SessionTests.login(k, "resetter@test.local", "reset-password-77").status == 200, "the expired link changed nothing")

        // A fourth request for the address within the window is refused, known or not.
        #expect(try await k.request("POST", "/api/auth/password/reset", json: ["email": "resetter@test.local"]).status == 202)
        let limited = try await k.request("POST", "/api/auth/password/reset", json: ["email": "resetter@test.local"])
        #expect(limited.status == 429 && limited.headers["retry-after"] != nil, "\(limited)")
        #expect(!k.log.contains(Setup.smtpPassword) && !k.log.contains(token), "neither the SMTP password nor a link is logged")
    }

    @Test func aVerificationLinkConfirmsTheAddressOnceAndNotAfterExpiry() async throws {
        let s = try await Setup.start()
        defer { s.stop() }
        let k = s.kernel
        let user = try await k.register("verifier")
        #expect(try await k.request("GET", "/api/auth/me", token: user.token).json["email_verified"] == false)
        let mail = try await s.message(to: "verifier@test.local", containing: "Confirm")
        #expect(mail.text.contains("https://api.son1k.test/verify-email?token="), "\(mail.text)")
        guard let token = mail.token else { throw TestFailure("no token in \(mail.text)") }

        let confirmed = try await k.request("POST", "/api/auth/verify/confirm", json: ["token": .string(token)])
        #expect(confirmed.status == 200 && confirmed.json["email_verified"] == true && confirmed.json["id"].string == user.id, "\(confirmed)")
        let twice = try await k.request("POST", "/api/auth/verify/confirm", json: ["token": .string(token)])
        #expect(twice.status == 400 && twice.json["code"] == "link_invalid")
        let already = try await k.request("POST", "/api/auth/verify", token: user.token)
        #expect(already.status == 409 && already.json["code"] == "already_verified")

        // Another user asks again; the newer link alone works, and not after a day.
        let other = try await k.register("latecomer")
        _ = try await s.message(to: "latecomer@test.local", containing: "Confirm")
        #expect(try await k.request("POST", "/api/auth/verify", token: other.token).status == 202)
        guard let second = try await s.message(to: "latecomer@test.local", containing: "Confirm", count: 2).token else { throw TestFailure("no second token") }
        try s.stepClock(24 * 3600 + 1)
        let expired = try await k.request("POST", "/api/auth/verify/confirm", json: ["token": .string(second)])
        #expect(expired.status == 400 && expired.json["code"] == "link_invalid", "\(expired)")
        #expect(try await k.request("GET", "/api/auth/me", token: other.token).json["email_verified"] == false)
    }

    @Test func withoutSMTPTheMailRoutesAnswer503AndEverythingElseWorks() async throws {
        let k = try await TestKernel.start([])
        defer { k.stop() }
        let user = try await k.register("nomail")
        for (path, token) in [("/api/auth/password/reset", nil), ("/api/auth/verify", user.token)] as [(String, String?)] {
            let r = try await k.request("POST", path, token: token, json: ["email": "nomail@test.local"])
            #expect(r.status == 503 && r.json["code"] == "mail_not_configured" && r.json["detail"].string?.contains("SMTP") == true, "\(path): \(r)")
        }
        let bogus = try await k.request("POST", "/api/auth/password/reset/confirm", json: ["token": "not-a-token", "new_password": "whatever-123"])
        #expect(bogus.status == 400 && bogus.json["code"] == "link_invalid")
        #expect(try await SessionTests.login(k, "nomail@test.local").status == 200)
    }
}

import Foundation
import Son1kPluginKit
import Testing

@Suite struct CLITests {
    @Test func pluginsCheckPrintsLoadAndHookOrderAndPassesAHealthyDeployment() async throws {
        let k = try TestKernel(plugins: [.hello, .cplugin, .faulty()])
        defer { k.stop() }
        let (status, output) = try await k.cli(["plugins", "check"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("load order: hello → cplugin → faulty"))
        #expect(output.contains("hook order hello.before_greet: faulty"))
        #expect(output.hasSuffix("ok\n"))
    }

    @Test func pluginsCheckFailsOnABrokenPluginAndSaysWhy() async throws {
        let k = try TestKernel(plugins: [.hello, .faulty(["mode": "loud"])])
        defer { k.stop() }
        let (status, output) = try await k.cli(["plugins", "check"])
        #expect(status == 1)
        #expect(output.contains("problem: faulty: failed — invalid config: mode: must be one of"), "\(output)")
    }

    @Test func pluginsCheckFailsOnARouteConflict() async throws {
        let k = try TestKernel(plugins: [.hello, PluginSpec(name: "conflict", library: "Son1kTestConflict")])
        defer { k.stop() }
        let (status, output) = try await k.cli(["plugins", "check"])
        #expect(status == 1)
        #expect(output.contains("claimed by both plugin 'conflict' and plugin 'hello'"), "\(output)")
    }

    @Test func migrateUsersAndTokensWorkAgainstTheServersDatabase() async throws {
        let k = try TestKernel(plugins: [.hello])
        defer { k.stop() }
        let migrated = try await k.cli(["migrate"])
        #expect(migrated.status == 0 && migrated.output.contains("hello: up to date"), "\(migrated.output)")
        let created = try await k.cli(["users", "create", "--email", "vic@test.local", "--username", "vic", "--password", "password-123"])
        #expect(created.status == 0, "\(created.output)")
        #expect(try await k.cli(["users", "set-role", "vic@test.local", "admin"]).output.contains("vic@test.local is now admin"))
        let token = try await k.cli(["tokens", "create", "--role", "worker", "--name", "gpu-1"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("s1k."))

        try await k.launch()
        let login = try await k.request("POST", "/api/auth/login", json: ["email": "vic@test.local", "password": "password-123"])
        #expect(login.json["user"]["role"] == "admin")
        // The worker token authenticates, as a worker.
        #expect(try await k.request("GET", "/api/auth/me", token: token).status == 403)
        #expect(try await k.request("GET", "/api/admin/users", token: token).status == 403)
        let duplicate = try await k.cli(["users", "create", "--email", "vic@test.local", "--username", "vic2", "--password", "password-123"])
        #expect(duplicate.status != 0 && duplicate.output.contains("already exists"))
    }

    @Test func pluginsListShowsEachPluginWithItsStateAndRoutes() async throws {
        let k = try TestKernel(plugins: [.hello, PluginSpec(name: "ghost", library: "Son1kDoesNotExist")])
        defer { k.stop() }
        let (status, output) = try await k.cli(["plugins", "list", "--json"])
        #expect(status == 0)
        let plugins = try JSONValue.parse(Array(output.utf8)).array ?? []
        #expect(plugins.first { $0["name"] == "hello" }?["routes"].array?.count == 4)
        #expect(plugins.first { $0["name"] == "ghost" }?["state"] == "failed")
        let table = try await k.cli(["plugins", "list"]).output
        #expect(table.contains("hello  1.0.0  loaded") && table.contains("GET /api/hello/{name}  [public]"), "\(table)")
    }

    @Test func helpReadsAsAManual() async throws {
        let k = try TestKernel(plugins: [])
        defer { k.stop() }
        let help = try await k.cli(["--help"]).output
        for sub in ["serve", "plugins", "migrate", "users", "tokens"] { #expect(help.contains(sub)) }
        #expect(try await k.cli(["plugins", "check", "--help"]).output.contains("hook order"))
    }
}

import Foundation
import Son1kPluginKit
import Testing

/// The 40-line plugin of docs/PLUGINS.md, built from the same source, behaves as documented.
@Suite struct DocumentedPluginTests {
    @Test func theGuideShowsTheCompiledPluginVerbatimInFortyLines() throws {
        let root = TestKernel.repositoryRoot
        let source = try String(contentsOf: root.appendingPathComponent("Tests/Plugins/Plays/PlaysPlugin.swift"), encoding: .utf8)
        let guide = try String(contentsOf: root.appendingPathComponent("docs/PLUGINS.md"), encoding: .utf8)
        let plugin = String(source[source.range(of: "import Son1kPluginKit")!.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = guide.components(separatedBy: "## A plugin in 40 lines")[1].components(separatedBy: "```swift\n")[1]
            .components(separatedBy: "```")[0].trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(shown == plugin, "docs/PLUGINS.md's example differs from Tests/Plugins/Plays/PlaysPlugin.swift")
        #expect(plugin.split(separator: "\n", omittingEmptySubsequences: false).count <= 40)
    }

    @Test func theFortyLinePluginCountsPlaysEnforcesItsConfigAndPublishes() async throws {
        let k = try await TestKernel.start([PluginSpec(name: "plays", library: "Son1kTestPlays", config: ["max_per_user": 2])])
        defer { k.stop() }
        let user = try await k.register("lena")
        #expect(try await k.request("POST", "/api/plays/song1").status == 401)
        #expect(try await k.request("POST", "/api/plays/song1", token: user.token).status == 204)
        #expect(try await k.request("POST", "/api/plays/song1", token: user.token).status == 204)
        let third = try await k.request("POST", "/api/plays/song1", token: user.token)
        #expect(third.status == 429)
        #expect(third.json["code"] == "play_limit")
        // The limit is per user and per song.
        let other = try await k.register("mark")
        #expect(try await k.request("POST", "/api/plays/song1", token: other.token).status == 204)
        #expect(try await k.request("POST", "/api/plays/song2", token: user.token).status == 204)
        let spec = try await k.request("GET", "/openapi.json").json
        #expect(spec["paths"]["/api/plays/{id}"]["post"]["summary"] == "Count one play")
    }

    @Test func itsConfigSchemaIsDerivedAndEnforced() async throws {
        let k = try await TestKernel.start([PluginSpec(name: "plays", library: "Son1kTestPlays", config: ["max_per_user": 0])])
        defer { k.stop() }
        let plays = try await k.plugin("plays")
        #expect(plays["state"] == "failed")
        #expect(plays["reason"] == "invalid config: max_per_user: must be at least 1")
    }
}

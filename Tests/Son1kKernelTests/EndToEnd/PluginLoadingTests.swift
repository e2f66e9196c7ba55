import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

/// A deployment runs what plugins.json names, and one broken plugin never takes down the
/// kernel or the others.
@Suite struct PluginLoadingTests {
    /// The plugins that must keep working whatever else breaks.
    func expectOthersStillWork(_ k: TestKernel) async throws {
        #expect(try await k.request("GET", "/api/hello/World").json["message"] == "Hello, World!")
        #expect(try await k.request("GET", "/api/cplugin/hello").status == 200)
        #expect(try await k.plugin("hello")["state"] == "running")
        #expect(try await k.plugin("cplugin")["state"] == "running")
    }

    @Test func disablingAPluginRemovesItsRoutesAndSubscriptionsWhileTheRestKeepsWorking() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty(enabled: false)])
        defer { k.stop() }
        #expect(try await k.request("GET", "/api/faulty/throw").status == 404)
        let faulty = try await k.plugin("faulty")
        #expect(faulty["state"] == "disabled")
        #expect(faulty["reason"].string?.contains("disabled in plugins.json") == true)
        try await expectOthersStillWork(k)

        // hello.greeted goes to the C plugin only: no delivery row exists for the disabled one.
        let user = try await k.register("dora")
        #expect(try await k.request("POST", "/api/hello/greetings", token: user.token, json: ["name": "Ann"]).status == 201)
        let admin = try await k.adminToken()
        let deliveries = try await poll("the C plugin to receive hello.greeted") { () -> [JSONValue]? in
            let items = try await k.request("GET", "/api/admin/events?topic=hello.greeted", token: admin).json["items"].array ?? []
            return items.contains { $0["status"] == "delivered" } ? items : nil
        }
        #expect(deliveries.map { $0["subscriber"].string } == ["cplugin"])
        #expect(!(try await k.request("GET", "/openapi.json").text.contains("/api/faulty/throw")))
    }

    /// `ctx.db.dialect` names the deployment's database, so a plugin's one statement that
    /// must differ reaches the engine that understands it.
    @Test func aPluginLearnsTheDatabaseDialectAndRunsAStatementOnlyItUnderstands() async throws {
        let k = try await TestKernel.start([.hello, .faulty()])
        defer { k.stop() }
        let r = try await k.request("GET", "/api/faulty/dialect")
        #expect(r.status == 200, "\(r)")
        #expect(r.json["dialect"].string == k.backend.rawValue)
        let version = r.json["version"].string ?? ""
        switch k.backend {
        case .sqlite: #expect(version.hasPrefix("3."), "sqlite_version(): \(version)")
        case .postgres: #expect(version.hasPrefix("15"), "server_version: \(version)")
        }
    }

    /// `make run` serves the shipped plugins.json: every plugin it names starts, with its config.
    @Test func everyPluginOfTheShippedPluginsJSONRuns() async throws {
        let shipped = try JSONValue.parse(Array(try Data(contentsOf: TestKernel.repositoryRoot.appendingPathComponent("plugins.json"))))
        let specs = (shipped["plugins"].array ?? []).map { p in
            PluginSpec(name: p["name"].string ?? "", library: p["library"].string ?? "", enabled: p["enabled"].bool ?? true, config: p["config"])
        }
        #expect(specs.map(\.name) == ["hello", "generation", "tiers", "pool", "billing", "stealth", "lyrics", "voice"])
        let k = try await TestKernel.start(specs)
        defer { k.stop() }
        for spec in specs {
            let state = try await k.plugin(spec.name)
            #expect(state["state"] == "running", "\(spec.name): \(state["reason"])")
        }
    }

    @Test func aMissingLibraryDisablesOnlyThatPlugin() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, PluginSpec(name: "ghost", library: "Son1kDoesNotExist")])
        defer { k.stop() }
        let ghost = try await k.plugin("ghost")
        #expect(ghost["state"] == "failed")
        #expect(ghost["reason"].string?.hasPrefix("library Son1kDoesNotExist not found (looked for libSon1kDoesNotExist.so in ") == true)
        try await expectOthersStillWork(k)
    }

    @Test func anABIMajorMismatchIsRefusedNamingBothVersions() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, PluginSpec(name: "future", library: "Son1kTestFutureABI")])
        defer { k.stop() }
        let future = try await k.plugin("future")
        #expect(future["state"] == "failed")
        let reason = future["reason"].string ?? ""
        #expect(reason.contains("ABI 2.0") && reason.contains("speaks 1.\(PluginLibrary.kernelABIMinor)"), "reason: \(reason)")
        try await expectOthersStillWork(k)
    }

    @Test func aSwiftPluginFromAnotherToolchainIsRefusedNamingBothVersions() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, PluginSpec(name: "oldswift", library: "Son1kTestOtherSwift")])
        defer { k.stop() }
        let old = try await k.plugin("oldswift")
        #expect(old["state"] == "failed")
        let reason = old["reason"].string ?? ""
        #expect(reason.contains("built by swift-5.9 but the kernel runs swift-6.3"), "reason: \(reason)")
        try await expectOthersStillWork(k)
    }

    @Test func aThrowingInitDisablesOnlyThatPlugin() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty(["fail_init": true])])
        defer { k.stop() }
        let faulty = try await k.plugin("faulty")
        #expect(faulty["state"] == "failed")
        #expect(faulty["reason"].string?.contains("init failed") == true)
        #expect(try await k.request("GET", "/api/faulty/received").status == 503)
        try await expectOthersStillWork(k)
    }

    @Test func anInvalidConfigValueDisablesOnlyThatPluginNamingTheField() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty(["mode": "loud", "fail_actions": "yes"])])
        defer { k.stop() }
        let faulty = try await k.plugin("faulty")
        #expect(faulty["state"] == "failed")
        let reason = faulty["reason"].string ?? ""
        #expect(reason.contains("mode: must be one of \"normal\", \"strict\""), "reason: \(reason)")
        #expect(reason.contains("fail_actions: expected boolean"), "reason: \(reason)")
        try await expectOthersStillWork(k)
    }

    @Test func anUnknownConfigFieldIsRejected() async throws {
        let k = try await TestKernel.start([PluginSpec(name: "hello", library: "Son1kHello", config: ["greting": "Hi"]), .cplugin])
        defer { k.stop() }
        let hello = try await k.plugin("hello")
        #expect(hello["state"] == "failed")
        #expect(hello["reason"].string?.contains("greting: is not a known setting") == true)
        #expect(try await k.plugin("cplugin")["state"] == "running")
    }

    @Test func anUnmetRequirementDisablesTheDependantWithTheReason() async throws {
        let k = try await TestKernel.start([PluginSpec(name: "hello", library: "Son1kHello", enabled: false), .cplugin, .faulty()])
        defer { k.stop() }
        let faulty = try await k.plugin("faulty")
        #expect(faulty["state"] == "disabled")
        #expect(faulty["reason"] == "requires plugin 'hello', which is disabled")
        // cplugin only optionally requires hello: it still runs.
        #expect(try await k.plugin("cplugin")["state"] == "running")
        #expect(try await k.request("GET", "/api/cplugin/hello").status == 200)
    }

    @Test func aRouteConflictFailsStartUpNamingBothPlugins() async throws {
        let k = try TestKernel(plugins: [.hello, PluginSpec(name: "conflict", library: "Son1kTestConflict")])
        defer { k.stop() }
        await #expect(throws: TestFailure.self) { try await k.launch() }
        #expect(k.process?.terminationStatus == 2)
        #expect(k.log.contains("route conflict: GET /api/hello/{name} is claimed by both plugin 'conflict' and plugin 'hello'"), "log: \(k.log)")
    }

    @Test func aPluginThatRegistersSomethingTwiceIsRefusedNamingItselfAndEachName() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, PluginSpec(name: "duplicates", library: "Son1kTestDuplicates")])
        defer { k.stop() }
        let plugin = try await k.plugin("duplicates")
        #expect(plugin["state"] == "failed")
        let reason = plugin["reason"].string ?? ""
        for mistake in ["the plugin 'duplicates' registered wrongly", "the action handler for 'hello.greeted' is registered twice",
                        "the service 'duplicates.echo' is registered twice", "the route GET /api/duplicates/ping is registered twice",
                        "a rule of the config names 'max_per_huor'"] {
            #expect(reason.contains(mistake), "\(mistake) — reason: \(reason)")
        }
        #expect(try await k.request("GET", "/api/duplicates/ping").status == 404)
        try await expectOthersStillWork(k)
    }

    @Test func twoPluginsOfferingOneServiceFailStartUpNamingBoth() async throws {
        let k = try TestKernel(plugins: [.hello, PluginSpec(name: "duplicates", library: "Son1kTestDuplicates")],
                               environment: ["SON1K_TEST_DUPLICATES": "service"])
        defer { k.stop() }
        await #expect(throws: TestFailure.self) { try await k.launch() }
        #expect(k.process?.terminationStatus == 2)
        #expect(k.log.contains("the service 'hello.greet' is offered by both plugin 'duplicates' and plugin 'hello'"), "log: \(k.log)")
    }

    @Test func aHandlerThatThrowsYieldsProblemJSONNamingThePluginAndTheNextRequestSucceeds() async throws {
        let k = try await TestKernel.start([.hello, .faulty()])
        defer { k.stop() }
        for _ in 0..<3 {
            let r = try await k.request("GET", "/api/faulty/throw")
            #expect(r.status == 500)
            #expect(r.headers["content-type"] == "application/problem+json")
            #expect(r.json["code"] == "plugin_error")
            #expect(r.json["detail"].string?.contains("'faulty'") == true)
            #expect(try await k.request("GET", "/api/hello/again").status == 200)
        }
    }

    @Test func pluginsListsEveryPluginWithStateVersionRoutesAndSubscriptions() async throws {
        let k = try await TestKernel.start([.hello, .cplugin, .faulty()])
        defer { k.stop() }
        let c = try await k.plugin("cplugin")
        #expect(c["version"] == "0.1.0")
        #expect(c["build_info"] == "c (gcc)")
        #expect(c["routes"].array?.count == 3)
        #expect(c["subscriptions"].array?.contains(["topic": "hello.greeted", "kind": "action"]) == true)
        let faulty = try await k.plugin("faulty")
        #expect(faulty["subscriptions"].array?.contains(["topic": "hello.before_greet", "kind": "hook"]) == true)
        #expect(faulty["requires"] == [["name": "hello", "optional": false]])
        #expect(k.log.contains("hook order hello.before_greet: faulty"))
        #expect(k.log.contains("plugin load order: hello → cplugin → faulty"))
    }
}

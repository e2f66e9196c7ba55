import Foundation
import Son1kContracts
import Son1kPluginKit

/// Registers wrongly on purpose (tests only): an action handler, a service and a route each
/// twice, and a config constraint on a field that does not exist. The kernel must refuse it
/// naming each mistake. With `SON1K_TEST_DUPLICATES=service` it registers soundly instead but
/// offers `hello.greet`, which the hello plugin offers too: start-up must stop.
struct DuplicatesPlugin: Plugin {
    static let manifest = Manifest(name: "duplicates", version: "0.1.0", description: "Registers wrongly on purpose (tests only).")

    static var onlyTheSharedService: Bool { ProcessInfo.processInfo.environment["SON1K_TEST_DUPLICATES"] == "service" }

    struct Config: PluginConfig {
        var maxPerHour = 1
        static var constraints: [ConfigConstraint] {
            onlyTheSharedService ? [.range("max_per_hour", 1...10)] : [.range("max_per_huor", 1...10)]
        }
    }

    func register(_ r: inout Registry<Config>) {
        if Self.onlyTheSharedService {
            r.service(.helloGreet) { _, _ in GreetMessage(message: "not the hello plugin") }
            return
        }
        for _ in 0..<2 {
            r.onAction(.helloGreeted) { _, _ in }
            r.service(Service<JSONValue, JSONValue>("duplicates.echo")) { input, _ in input }
            r.get("/api/duplicates/ping", auth: .public, summary: "Ping") { _, _ in .noContent }
        }
    }
}

@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(DuplicatesPlugin.self) }

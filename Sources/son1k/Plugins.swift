import ArgumentParser
import Foundation
import Son1kKernel
import Son1kPluginKit

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the plugins of plugins.json.",
        subcommands: [List.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List each plugin with its state, version and routes.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let report = KernelTools.check(try options.load(), logger: Logs.quiet())
            if json { say(JSONValue.array(report.plugins).jsonString); return }
            for p in report.plugins {
                let version = p["version"].string ?? "-"
                say("\(p["name"].string ?? "?")  \(version)  \(p["state"].string ?? "?")\(p["reason"].string.map { "  (\($0))" } ?? "")")
                for r in p["routes"].array ?? [] {
                    say("    \(r["method"].string ?? "") \(r["path"].string ?? "")  [\(r["auth"].string ?? "")]")
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load every plugin and validate the deployment without starting it.",
            discussion: """
                Opens each enabled plugin, checks its ABI and toolchain, validates its config against
                its schema, resolves `requires` into a load order, checks for route conflicts and
                resolves the hook order. Prints the load order and the hook order. Exits non-zero
                when any plugin would not run (other than those disabled on purpose).
                """
        )
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let report = KernelTools.check(try options.load(), logger: Logs.quiet())
            for p in report.plugins {
                say("\(p["name"].string ?? "?"): \(p["state"].string ?? "?")\(p["reason"].string.map { " — \($0)" } ?? "")")
            }
            say("load order: \(report.loadOrder.joined(separator: " → "))")
            for (topic, order) in report.hookOrder.sorted(by: { $0.key < $1.key }) {
                say("hook order \(topic): \(order.joined(separator: " → "))")
            }
            if report.problems.isEmpty {
                say("ok")
            } else {
                for problem in report.problems { say("problem: \(problem)") }
                throw ExitCode(1)
            }
        }
    }
}

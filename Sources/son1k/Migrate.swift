import ArgumentParser
import Son1kKernel

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations of the kernel and every enabled plugin, then exit.",
        discussion: "`serve` migrates on start too; run this to migrate ahead of a deploy. Exits non-zero when a plugin's migration fails."
    )
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let report = try KernelTools.migrate(try options.load(), logger: Logs.quiet())
        var failed = false
        for p in report {
            let state = p["state"].string ?? "?"
            if state == "failed" { failed = true }
            say("\(p["name"].string ?? "?"): \(state == "loaded" ? "up to date" : state)\(p["reason"].string.map { " — \($0)" } ?? "")")
        }
        if failed { throw ExitCode(1) }
    }
}

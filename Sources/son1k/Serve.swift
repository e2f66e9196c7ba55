import ArgumentParser
import Foundation
import Son1kKernel

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the HTTP server with the plugins of plugins.json.",
        discussion: """
            Opens the database (creating it on first start), applies migrations, loads every
            enabled plugin and serves until SIGINT or SIGTERM. On first start an admin account
            is created and its password printed once (or taken from SON1K_ADMIN_PASSWORD).
            A plugin that cannot load is disabled with its reason (see GET /api/plugins); a
            route conflict or a hook-order cycle stops start-up.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("Listen address, overriding the config and SON1K_LISTEN.", valueName: "host:port"))
    var listen: String?

    func run() async throws {
        var config = try options.load()
        if let listen {
            var env = ProcessInfo.processInfo.environment
            env["SON1K_LISTEN"] = listen
            config = try KernelConfig.load(path: options.config, environment: env)
        }
        let logger = Logs.bootstrap()
        let kernel: Kernel
        do {
            kernel = try Kernel(config: config, logger: logger)
        } catch {
            logger.critical("start-up failed: \(error)")
            throw ExitCode(2)
        }
        if let admin = try kernel.ensureAdmin() {
            if let password = admin.generatedPassword {
                say("""
                    First start: created the admin account (shown only this once)
                      email:    \(admin.email)
                      password: \(password)
                    """)
            } else {
                say("First start: created the admin account \(admin.email) with the password from SON1K_ADMIN_PASSWORD")
            }
        }
        try await kernel.run { url in
            say("son1k listening on \(url)  (docs: \(url)/docs, health: \(url)/health)")
        }
    }
}

import ArgumentParser
import Foundation
import Logging
import Son1kKernel

@main
struct Son1k: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "son1k",
        abstract: "The son1k music platform: a plugin microkernel.",
        discussion: """
            The kernel owns configuration, storage, identity and an event bus; every feature is a
            plugin (a shared library) that plugins.json enables. Start with `son1k serve`.

            Environment: SON1K_CONFIG (manifest path), SON1K_LISTEN (host:port), SON1K_DATA_DIR,
            DATABASE_URL, SON1K_PLUGIN_PATH, SON1K_JWT_SECRET, SON1K_ADMIN_EMAIL,
            SON1K_ADMIN_PASSWORD, SON1K_LOG_LEVEL (trace, debug, info, warning, error).
            """,
        subcommands: [Serve.self, Plugins.self, Migrate.self, Copy.self, Users.self, Tokens.self, Render.self, WorkerCommand.self, StorageBench.self]
    )
}

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path to plugins.json.", valueName: "path"))
    var config: String = ProcessInfo.processInfo.environment["SON1K_CONFIG"] ?? "plugins.json"

    func load() throws -> KernelConfig {
        do {
            return try KernelConfig.load(path: config)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

enum Logs {
    static func bootstrap() -> Logger {
        let level = ProcessInfo.processInfo.environment["SON1K_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "son1k")
    }

    /// A logger for commands whose output is their report: only warnings and errors, on stderr.
    static func quiet() -> Logger {
        var logger = Logger(label: "son1k") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }
}

/// Write a line to stdout at once (the URL and admin credentials are read by scripts).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

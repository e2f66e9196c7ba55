import Foundation
import Logging
import Son1kPluginKit

/// Operations the CLI runs without serving: check the plugins, migrate, manage users and
/// tokens. They open the same database the server uses (safe while it runs: SQLite's busy
/// timeout serialises writers across processes).
public enum KernelTools {
    /// Open the configured database and bring the kernel's own tables up to date.
    public static func openStorage(_ s: KernelSettings) throws -> any Storage {
        let storage: any Storage
        let place: String
        do {
            if s.databaseURL.hasPrefix("postgres") {
                let postgres = try PostgresStorage(url: s.databaseURL, transactionTimeout: s.transactionTimeoutSeconds)
                storage = postgres
                place = "PostgreSQL at \(postgres.location)"
            } else {
                try FileManager.default.createDirectory(atPath: s.dataDirectory, withIntermediateDirectories: true)
                storage = try SQLiteStorage(path: s.databasePath, transactionTimeout: s.transactionTimeoutSeconds)
                place = "database at \(s.databasePath)"
            }
        } catch {
            throw BootFailure(description: "\(error)")
        }
        do {
            let migrator = Migrator(storage: storage)
            try migrator.prepareLedger()
            try migrator.migrate(owner: "kernel", KernelSchema.migrations, guard: nil)
            if storage.dialect == "postgres" { try migrator.migrate(owner: "kernel_postgres", KernelSchema.postgresMigrations, guard: nil) }
            return storage
        } catch {
            storage.close()
            throw BootFailure(description: "\(place): \(error)")
        }
    }

    public static func identity(_ s: KernelSettings) throws -> IdentityStore {
        let storage = try openStorage(s)
        return IdentityStore(storage: storage, jwt: JWTSigner(secret: try Kernel.jwtSecret(s, storage: storage), ttlSeconds: s.tokenTTLSeconds),
                             bcryptCost: s.bcryptCost)
    }

    /// The result of loading every plugin without initialising any.
    public struct CheckReport: Sendable {
        public var plugins: [JSONValue]
        public var loadOrder: [String]
        public var hookOrder: [String: [String]]
        /// Problems that make a deployment unhealthy: boot failures and plugins that did not
        /// load for a reason other than being disabled on purpose.
        public var problems: [String]
    }

    /// Open every plugin, validate configs, resolve `requires`, check routes and hook order.
    public static func check(_ config: KernelConfig, logger: Logger) -> CheckReport {
        let manager = PluginManager(config: config, logger: logger)
        manager.open(config: config)
        manager.resolveLoadOrder()
        var problems: [String] = []
        var router = RouteTable<RouteTarget>()
        for target in KernelRoutes().all { try? router.add(method: target.spec.method, path: target.spec.path, owner: "the kernel", target: target) }
        do { try manager.mountRoutes(into: &router) } catch { problems.append("\(error)") }
        do { try manager.resolveHookOrder() } catch { problems.append("\(error)") }
        do { try manager.claimServices() } catch { problems.append("\(error)") }
        for p in manager.plugins where p.status.reason != nil && p.status != .disabled("disabled in plugins.json") {
            problems.append("\(p.name): \(p.status.name) — \(p.status.reason!)")
        }
        return CheckReport(plugins: manager.report(), loadOrder: manager.loadOrder, hookOrder: manager.hookOrder, problems: problems)
    }

    /// Apply the kernel's and every loadable plugin's pending migrations.
    public static func migrate(_ config: KernelConfig, logger: Logger) throws -> [JSONValue] {
        let storage = try openStorage(config.settings)
        let manager = PluginManager(config: config, logger: logger)
        manager.open(config: config)
        manager.resolveLoadOrder()
        manager.migrate(storage: storage)
        return manager.report()
    }
}

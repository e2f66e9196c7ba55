import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

/// The SQLite storage and migrator, on a real database file.
@Suite struct StorageTests {
    func freshStorage() throws -> any Storage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-storage-\(UUID())")
        var s = KernelSettings()
        s.dataDirectory = dir.path
        s.transactionTimeoutSeconds = 2
        return try KernelTools.openStorage(s)
    }

    @Test func migrationsRunOnceAndAnEditedOneIsRefused() throws {
        let storage = try freshStorage()
        let migrator = Migrator(storage: storage)
        let guardrail = TablePrefixGuard(pluginName: "demo")
        let v1 = [Migration(1, "CREATE TABLE demo_items (id INTEGER PRIMARY KEY)")]
        #expect(try migrator.migrate(owner: "demo", v1, guard: guardrail) == [1])
        #expect(try migrator.migrate(owner: "demo", v1 + [Migration(2, "ALTER TABLE demo_items ADD COLUMN name TEXT")], guard: guardrail) == [2])
        let edited = [Migration(1, "CREATE TABLE demo_items (id INTEGER PRIMARY KEY, x INT)")]
        #expect { try migrator.migrate(owner: "demo", edited, guard: guardrail) } throws: { "\($0)".contains("migration 1 was edited after it was applied") }
    }

    @Test func aFailingMigrationIsRolledBackWhole() throws {
        let storage = try freshStorage()
        let migrator = Migrator(storage: storage)
        let bad = [Migration(1, "CREATE TABLE demo_a (id INT); CREATE TABLE demo_a (id INT)")]
        #expect(throws: Migrator.Failure.self) { try migrator.migrate(owner: "demo", bad, guard: TablePrefixGuard(pluginName: "demo")) }
        #expect(try storage.query("SELECT name FROM sqlite_master WHERE name = 'demo_a'", []).isEmpty)
        #expect(try storage.query("SELECT * FROM kernel_migrations WHERE owner = 'demo'", []).isEmpty)
        #expect { try migrator.migrate(owner: "demo", [Migration(1, "CREATE TABLE other (id INT)")], guard: TablePrefixGuard(pluginName: "demo")) } throws: {
            "\($0)".contains("does not start with \"demo_\"")
        }
    }

    @Test func transactionsCommitOrRollBackAsAWhole() throws {
        let storage = try freshStorage()
        _ = try storage.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        let tx = try storage.begin()
        _ = try tx.execute("INSERT INTO t VALUES (1)", [])
        #expect(try tx.query("SELECT COUNT(*) AS n FROM t", []) == [["n": 1]])
        #expect(try storage.query("SELECT COUNT(*) AS n FROM t", []) == [["n": 0]])  // not visible outside yet
        tx.rollback()
        #expect(try storage.query("SELECT COUNT(*) AS n FROM t", []) == [["n": 0]])
        #expect(throws: StorageError.self) { try tx.execute("INSERT INTO t VALUES (2)", []) }

        try storage.transaction { tx in _ = try tx.execute("INSERT INTO t VALUES (?)", [.int(5)]) }
        #expect { try storage.execute("INSERT INTO t VALUES (5)", []) } throws: { ($0 as? StorageError)?.kind == .constraint }
    }

    @Test func anAbandonedTransactionIsRolledBackAfterTheTimeout() async throws {
        let storage = try freshStorage()
        _ = try storage.execute("CREATE TABLE t (v INTEGER)")
        let tx = try storage.begin()
        _ = try tx.execute("INSERT INTO t VALUES (1)", [])
        _ = try await poll("the transaction to expire", timeout: .seconds(10), every: .milliseconds(100)) { tx.isOpen ? nil : true }
        // The writer is free again and the abandoned insert is gone.
        _ = try storage.execute("INSERT INTO t VALUES (2)", [])
        #expect(try storage.query("SELECT v FROM t", []) == [["v": 2]])
    }

    @Test func concurrentWritersNeverLoseAnUpdate() async throws {
        let storage = try freshStorage()
        _ = try storage.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        _ = try storage.execute("INSERT INTO counter VALUES (1, 0)")
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<25 {
                        try? storage.transaction { tx in
                            let n = try tx.query("SELECT n FROM counter WHERE id = 1", [])[0]["n"]!.int!
                            _ = try tx.execute("UPDATE counter SET n = ? WHERE id = 1", [.int(Int64(n + 1))])
                        }
                    }
                }
            }
        }
        #expect(try storage.query("SELECT n FROM counter", []) == [["n": 200]])
    }
}

import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

/// The storage conformance suite: what the kernel and every plugin rely on, checked on a real
/// SQLite file and on a real PostgreSQL 15 server alike.
@Suite struct StorageTests {
    func tableExists(_ storage: any Storage, _ name: String) throws -> Bool {
        let sql = storage.dialect == "postgres"
            ? "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = ?"
            : "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?"
        return try storage.query(sql, [.text(name)])[0]["n"]?.int == 1
    }

    @Test(arguments: Backend.allCases) func migrationsRunOnceAndAnEditedOneIsRefused(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        let migrator = Migrator(storage: storage)
        let guardrail = TablePrefixGuard(pluginName: "demo")
        let v1 = [Migration(1, "CREATE TABLE demo_items (id INTEGER PRIMARY KEY)")]
        #expect(try migrator.migrate(owner: "demo", v1, guard: guardrail) == [1])
        #expect(try migrator.migrate(owner: "demo", v1 + [Migration(2, "ALTER TABLE demo_items ADD COLUMN name TEXT")], guard: guardrail) == [2])
        #expect(try migrator.migrate(owner: "demo", v1 + [Migration(2, "ALTER TABLE demo_items ADD COLUMN name TEXT")], guard: guardrail) == [])
        let edited = [Migration(1, "CREATE TABLE demo_items (id INTEGER PRIMARY KEY, x INT)")]
        #expect { try migrator.migrate(owner: "demo", edited, guard: guardrail) } throws: { "\($0)".contains("migration 1 was edited after it was applied") }
    }

    @Test(arguments: Backend.allCases) func aFailingMigrationIsRolledBackWhole(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        let migrator = Migrator(storage: storage)
        let bad = [Migration(1, "CREATE TABLE demo_a (id INT); CREATE TABLE demo_a (id INT)")]
        #expect(throws: Migrator.Failure.self) { try migrator.migrate(owner: "demo", bad, guard: TablePrefixGuard(pluginName: "demo")) }
        #expect(try !tableExists(storage, "demo_a"))
        #expect(try storage.query("SELECT * FROM kernel_migrations WHERE owner = 'demo'", []).isEmpty)
        #expect { try migrator.migrate(owner: "demo", [Migration(1, "CREATE TABLE other (id INT)")], guard: TablePrefixGuard(pluginName: "demo")) } throws: {
            "\($0)".contains("does not start with \"demo_\"")
        }
    }

    @Test(arguments: Backend.allCases) func transactionsCommitOrRollBackAsAWhole(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
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
        #expect { try storage.transaction { tx in _ = try tx.execute("INSERT INTO t VALUES (?)", [.int(5)]) } } throws: {
            ($0 as? StorageError)?.kind == .constraint && ($0 as? StorageError)?.pluginError.status == 409
        }
        #expect(try storage.query("SELECT v FROM t", []) == [["v": 5]])
    }

    @Test(arguments: Backend.allCases) func anAbandonedTransactionIsRolledBackAfterTheTimeout(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE t (v INTEGER)")
        let tx = try storage.begin()
        _ = try tx.execute("INSERT INTO t VALUES (1)", [])
        // Its timeout is 2 s; the deadline is generous because the whole suite shares two cores.
        _ = try await poll("the transaction to expire", timeout: .seconds(30), every: .milliseconds(100)) { tx.isOpen ? nil : true }
        // The writer is free again and the abandoned insert is gone.
        _ = try storage.execute("INSERT INTO t VALUES (2)", [])
        #expect(try storage.query("SELECT v FROM t", []) == [["v": 2]])
        #expect { try tx.commit() } throws: { ($0 as? StorageError)?.kind == .closed }
    }

    @Test(arguments: Backend.allCases) func concurrentWritersNeverLoseAnUpdate(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        _ = try storage.execute("INSERT INTO counter VALUES (1, 0)")
        let failures = await onThreads(8) { _ in
            var failed = 0
            for _ in 0..<25 {
                do {
                    try storage.transaction { tx in
                        let n = try tx.query("SELECT n FROM counter WHERE id = 1", [])[0]["n"]!.int!
                        _ = try tx.execute("UPDATE counter SET n = ? WHERE id = 1", [.int(Int64(n + 1))])
                    }
                } catch { failed += 1 }
            }
            return failed
        }.reduce(0, +)
        // Every transaction either counted or failed as a whole: none read a stale n and wrote over another's.
        let n = try storage.query("SELECT n FROM counter", [])[0]["n"]!.int!
        #expect(n + failures == 200)
        #expect(n >= 150, "conflicting transactions are run again, so nearly all count")
    }

    /// READ COMMITTED transactions whose writes are conditional statements meet on a row lock:
    /// the second waits for the first and goes on, so none conflicts (no retry hides one here:
    /// each transaction begins once) and none loses an update.
    @Test(arguments: Backend.allCases) func readCommittedWritersWaitForARowLockInsteadOfConflicting(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        _ = try storage.execute("CREATE TABLE counted (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL)")
        _ = try storage.execute("INSERT INTO counter VALUES (1, 0)")
        let failures = await onThreads(8) { worker in
            var failed: [String] = []
            for _ in 0..<25 {
                do {
                    let tx = try storage.begin(isolation: .readCommitted)
                    do {
                        _ = try tx.query("SELECT COUNT(*) AS n FROM counted", [])
                        _ = try tx.execute("INSERT INTO counted (worker) VALUES (?)", [.int(Int64(worker))])
                        _ = try tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", [])
                        try tx.commit()
                    } catch {
                        tx.rollback()
                        throw error
                    }
                } catch { failed.append("\(error)") }
            }
            return failed
        }.flatMap { $0 }
        #expect(failures.count == 0, "first failure: \(failures.first ?? "")")
        #expect(try storage.query("SELECT n FROM counter", []) == [["n": 200]])
        #expect(try storage.query("SELECT COUNT(*) AS n FROM counted", []) == [["n": 200]])
    }

    /// A check-then-insert ("at most 3 per user") stays exact under concurrency: on SQLite the
    /// writer serialises it, on PostgreSQL SERIALIZABLE turns the race into a retried conflict.
    @Test(arguments: Backend.allCases) func aLimitCheckedInATransactionHoldsUnderConcurrency(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL)")
        _ = await onThreads(24) { _ in
            try? storage.transaction { tx in
                let n = try tx.query("SELECT COUNT(*) AS n FROM jobs WHERE user_id = ?", ["u1"])[0]["n"]!.int!
                if n < 3 { _ = try tx.execute("INSERT INTO jobs (user_id) VALUES (?)", ["u1"]) }
            }
        }
        #expect(try storage.query("SELECT COUNT(*) AS n FROM jobs", []) == [["n": 3]])
    }

    @Test(arguments: Backend.allCases) func valuesRoundTripAsSQLiteGivesThem(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("""
            CREATE TABLE v (id INTEGER PRIMARY KEY AUTOINCREMENT, big INTEGER, ratio REAL, name TEXT, flag INTEGER NOT NULL DEFAULT 0, missing TEXT)
            """)
        let first = try storage.execute("INSERT INTO v (big, ratio, name, flag) VALUES (?, ?, ?, ?)", [.int(1 << 40), .double(0.25), .text("it's ? here"), .bool(true)])
        #expect(first.changes == 1 && first.lastInsertID == 1)
        let second = try storage.execute("INSERT INTO v (big, ratio, name) VALUES (?, ?, ?)", [.int(-7), .double(3), .text("two")])
        #expect(second.lastInsertID == 2)
        let rows = try storage.query("SELECT id, big, ratio, name, flag, missing FROM v WHERE name <> '?' ORDER BY id", [])
        #expect(rows == [
            ["id": 1, "big": .integer(1 << 40), "ratio": 0.25, "name": "it's ? here", "flag": 1, "missing": .null],
            ["id": 2, "big": -7, "ratio": 3, "name": "two", "flag": 0, "missing": .null],
        ])
        // Aggregates read as numbers (PostgreSQL's SUM of integers is NUMERIC), comparisons as 0 or 1.
        let totals = try storage.query("SELECT COUNT(*) AS n, COALESCE(SUM(big), 0) AS total, MAX(ratio) AS top, big > 0 AS positive FROM v GROUP BY big > 0 ORDER BY positive", [])
        #expect(totals == [["n": 1, "total": -7, "top": 3, "positive": 0], ["n": 1, "total": .integer(1 << 40), "top": 0.25, "positive": 1]])
        // Rows as JSON, as plugins receive them: the same bytes on both backends.
        let json = try storage.queryJSON("SELECT id, name, missing FROM v WHERE id = ?", [.int(2)])
        #expect(String(decoding: json, as: UTF8.self) == #"[{"id":2,"name":"two","missing":null}]"#)
        // An upsert and RETURNING, in the portable spelling.
        _ = try storage.execute("INSERT INTO v (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name", [.int(2), .text("deux")])
        #expect(try storage.transaction { tx in try tx.query("UPDATE v SET flag = ? WHERE id = ? RETURNING name, flag", [.bool(true), .int(2)]) }
                == [["name": "deux", "flag": 1]])
        // Too few values for the placeholders is the caller's mistake, not a crash.
        #expect { try storage.query("SELECT id FROM v WHERE id = ? AND name = ?", [.int(1)]) } throws: { $0 is StorageError }
    }

    /// Each statement of a transaction sees the ones before it, and the transaction's writes
    /// are nobody else's until it commits; a failing statement fails the request that made it.
    @Test(arguments: Backend.allCases) func aFailedStatementNeverCommitsPartOfItsTransaction(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE u (v INTEGER PRIMARY KEY)")
        _ = try storage.execute("INSERT INTO u VALUES (1)")
        #expect(throws: StorageError.self) {
            try storage.transaction { tx in
                _ = try tx.execute("INSERT INTO u VALUES (2)", [])
                _ = try tx.execute("INSERT INTO u VALUES (1)", [])  // duplicate key
            }
        }
        #expect(try storage.query("SELECT v FROM u ORDER BY v", []) == [["v": 1]])
    }
}

/// The portable dialect as PostgreSQL reads it, and what start-up says when it cannot.
@Suite struct PostgresDialectTests {
    @Test func placeholdersAndSQLiteTypesAreTranslatedOutsideStringsAndComments() {
        let script = PostgresSQL.translate("""
            CREATE TABLE demo_t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, r REAL, b BLOB, note TEXT DEFAULT 'INTEGER?'); -- a ? here
            INSERT INTO demo_t (n, note) VALUES (?, 'what?') /* ? */ RETURNING id
            """).map(\.sql)
        #expect(script.count == 2)
        #expect(script[0] == "CREATE TABLE demo_t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, r DOUBLE PRECISION, b BYTEA, note TEXT DEFAULT 'INTEGER?')")
        #expect(script[1] == "-- a ? here\nINSERT INTO demo_t (n, note) VALUES ($1, 'what?') /* ? */ RETURNING id")
    }

    @Test func anUnreachableDatabaseStopsStartUpNamingHostAndPort() throws {
        var s = KernelSettings()
        s.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-storage-\(UUID())").path
        let port = try PostgresCluster.freePort()
        s.databaseURL = "postgres://son1k:secret-password@127.0.0.1:\(port)/son1k?sslmode=disable"
        let started = Date()
        #expect { try KernelTools.openStorage(s) } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:\(port)") && !text.contains("secret-password")
        }
        #expect(Date().timeIntervalSince(started) < 10, "a refused connection fails at once, not after the pool's retries")
        s.databaseURL = "postgres:///son1k"
        #expect { try KernelTools.openStorage(s) } throws: { "\($0)".contains("names no host") }
        s.databaseURL = "postgres://son1k@127.0.0.1:\(port)/son1k?connect_timeout=0"
        #expect { try KernelTools.openStorage(s) } throws: { "\($0)".contains("connect_timeout must be 1 to 1000") }
    }
}

import ArgumentParser
import Foundation
import Son1kKernel

/// `son1k storage-bench`: the embedded database's own write limit on this machine.
struct StorageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-bench",
        abstract: "Measure the embedded database's write speed: one-insert transactions through the kernel's storage.",
        discussion: """
            Opens a fresh SQLite database in a temporary folder, exactly as `son1k serve` opens its own
            (WAL, synchronous=NORMAL, the kernel's writer and group commit), and commits
            --transactions one-row INSERT transactions one after another from one thread, then from
            --threads threads at once. No HTTP, no plugins: this is the ceiling a plugin route that
            writes is measured against (`make bench`). Prints JSON.
            """
    )

    @Option(help: "Transactions per run.") var transactions = 20_000
    @Option(help: "Threads for the concurrent run.") var threads = 8

    func validate() throws {
        guard transactions >= 100 else { throw ValidationError("--transactions must be at least 100.") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1 to 256.") }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-storage-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let storage = try SQLiteStorage(path: folder.appendingPathComponent("bench.db").path)
        defer { storage.close() }
        _ = try storage.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, at INTEGER NOT NULL)")
        let insert: @Sendable (Int) throws -> Void = { n in
            try storage.transaction { tx in
                _ = try tx.execute("INSERT INTO bench_rows (name, at) VALUES (?, ?)", [.text("row \(n)"), .int(Int64(n))])
            }
        }
        for n in 0..<500 { try insert(n) }  // warm-up: statements prepared, pages cached

        var start = Date()
        for n in 0..<transactions { try insert(n) }
        let single = Double(transactions) / Date().timeIntervalSince(start)

        start = Date()
        let perThread = transactions / threads
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for n in 0..<perThread { try? insert(t * perThread + n) }
        }
        let concurrent = Double(perThread * threads) / Date().timeIntervalSince(start)
        print(#"{"single_thread_tx_per_s": \#(Int(single)), "concurrent_tx_per_s": \#(Int(concurrent)), "threads": \#(threads), "transactions": \#(transactions)}"#)
    }
}

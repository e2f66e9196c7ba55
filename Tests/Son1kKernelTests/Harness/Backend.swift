import Foundation
import Son1kKernel
import Testing

/// The kernel's two storage backends; suites that promise the same behaviour on both take
/// one as an argument.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// The backend end-to-end deployments run on: SQLite, or PostgreSQL when the tests run
    /// with `SON1K_TEST_DATABASE=postgres` (`make test` runs the suites that promise the same
    /// on both a second time that way).
    static let current: Backend = {
        guard let name = ProcessInfo.processInfo.environment["SON1K_TEST_DATABASE"], !name.isEmpty else { return .sqlite }
        guard let backend = Backend(rawValue: name) else { fatalError("SON1K_TEST_DATABASE must be sqlite or postgres, not \(name)") }
        return backend
    }()

    /// How much longer than on SQLite a deadline waits: on PostgreSQL every statement is a
    /// round trip to a server that all the suites' deployments share at once (two cores), so
    /// a boot's migrations or a queue of thousands of jobs take several times longer.
    var patience: Double { self == .postgres ? 3 : 1 }

    /// `DATABASE_URL` for a new, empty database of this backend ("" for SQLite: the kernel's
    /// data directory then holds the file).
    func freshDatabaseURL() throws -> String {
        switch self {
        case .sqlite: return ""
        case .postgres: return try PostgresCluster.shared().freshDatabase()
        }
    }

    /// A new, empty database opened as the kernel opens it (kernel tables migrated). Opened on
    /// a thread of its own: the first call starts the PostgreSQL cluster, which takes seconds.
    func freshStorage(transactionTimeout: Double = 2) async throws -> any Storage {
        try await onThread { () throws -> any Storage in
                var s = KernelSettings()
                s.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-storage-\(UUID())").path
                s.databaseURL = try freshDatabaseURL()
                s.transactionTimeoutSeconds = transactionTimeout
                return try KernelTools.openStorage(s)
        }
    }
}

/// Run `body(0..<count)` on `count` threads of their own and wait without blocking: blocking
/// storage calls must not occupy Swift's cooperative pool (two threads here), which the other
/// tests running in parallel — WebSocket clients among them — need to make progress.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) async -> [T] {
    await withCheckedContinuation { continuation in
        let results = ResultBox<T>(count: count)
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread {
                results.set(i, body(i))
                group.leave()
            }.start()
        }
        group.notify(queue: .global()) { continuation.resume(returning: results.all) }
    }
}

/// Run throwing blocking work on a thread of its own and wait without blocking: ``onThreads(_:_:)``
/// for the single call that returns a value or throws.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onThreads(1) { _ in Result { try body() } }[0].get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.withLock { values[i] = value } }
    var all: [T] { lock.withLock { values.map { $0! } } }
}

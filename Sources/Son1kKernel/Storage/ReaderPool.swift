import Dispatch
import GRDB
import Synchronization

/// Read-only connections to the database, each lent to one thread at a time.
///
/// GRDB's `DatabasePool` guards its readers with a dispatch-queue read/write lock taken twice
/// per read; with dozens of request threads on two cores those waits put threads to sleep
/// and cost more than the query. Here a reader is taken from a list under a `Mutex` (a few
/// instructions when uncontended) and used directly, so a read is one SQLite statement and
/// two atomic operations. WAL mode lets all of them read while the writer writes.
final class ReaderPool: Sendable {
    private let idle: Mutex<[DatabaseQueue]>
    private let available: DispatchSemaphore

    init(path: String, count: Int, configuration: Configuration) throws {
        var config = configuration
        config.readonly = true
        var readers: [DatabaseQueue] = []
        for _ in 0..<count { readers.append(try DatabaseQueue(path: path, configuration: config)) }
        idle = Mutex(readers)
        available = DispatchSemaphore(value: count)
    }

    /// Runs `body` on a free reader (waiting for one when all are lent).
    func read<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        available.wait()
        let reader = idle.withLock { $0.removeLast() }
        defer {
            idle.withLock { $0.append(reader) }
            available.signal()
        }
        return try reader.inDatabase(body)
    }
}

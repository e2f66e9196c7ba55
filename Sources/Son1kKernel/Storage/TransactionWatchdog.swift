import Dispatch
import Foundation

/// A transaction the watchdog can end.
protocol ExpiringTransaction: AnyObject, Sendable {
    /// Roll back: the transaction outlived `timeout` seconds without being ended.
    func expire(after timeout: Double)
}

/// Rolls back every open write transaction that outlives its timeout, so a plugin that
/// forgets to commit cannot hold the writer (SQLite) or a connection and its locks
/// (PostgreSQL) forever. One looking thread per database instead of one timer per
/// transaction: those cost a wake-up of libdispatch's timer thread each, visible under load.
final class TransactionWatchdog: @unchecked Sendable {
    private struct Watched {
        weak var transaction: (any ExpiringTransaction)?
        var deadline: DispatchTime
        var timeout: Double
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var watched: [ObjectIdentifier: Watched] = [:]

    /// `interval`: how often it looks, i.e. how late past its timeout a transaction may end.
    ///
    /// It looks from a thread of its own, not a dispatch queue: on Linux libdispatch's queues
    /// run on as many threads as there are cores, and callers blocked on the writer, a group
    /// commit or a connection (or a test runner's tasks) can occupy all of them — exactly when
    /// an abandoned transaction most needs ending. The thread ends with the watchdog.
    init(interval: Double) {
        let thread = Thread { [weak self] in
            // The watchdog is held only while it looks, never while the thread sleeps.
            func look() -> Bool {
                guard let watchdog = self else { return false }
                watchdog.check()
                return true
            }
            while look() { Thread.sleep(forTimeInterval: interval) }
        }
        thread.name = "son1k.transaction-watchdog"
        thread.start()
    }

    func watch(_ tx: any ExpiringTransaction, timeout: Double) {
        lock.withLock { watched[ObjectIdentifier(tx)] = Watched(transaction: tx, deadline: .now() + timeout, timeout: timeout) }
    }

    func clear(_ tx: any ExpiringTransaction) {
        lock.withLock { _ = watched.removeValue(forKey: ObjectIdentifier(tx)) }
    }

    private func check() {
        let now = DispatchTime.now()
        let overdue: [(any ExpiringTransaction, Double)] = lock.withLock {
            var out: [(any ExpiringTransaction, Double)] = []
            for (key, entry) in watched {
                guard let tx = entry.transaction else { watched[key] = nil; continue }
                if now >= entry.deadline {
                    out.append((tx, entry.timeout))
                    watched[key] = nil
                }
            }
            return out
        }
        for (tx, timeout) in overdue { tx.expire(after: timeout) }
    }
}

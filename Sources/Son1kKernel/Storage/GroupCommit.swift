import Dispatch
import Foundation

/// The one writer's turnstile, and group commit.
///
/// SQLite has one writer; plugin transactions are interactive (a plugin begins, runs
/// statements between its own code, then commits), so they take the writer one at a time.
/// What they need not do one at a time is *commit*: each COMMIT appends every page the
/// transaction touched to the write-ahead log, and consecutive transactions touch mostly the
/// same pages (the right edge of the same tables and indexes).
///
/// So a physical transaction (BEGIN IMMEDIATE … COMMIT) carries a **group** of logical ones,
/// each inside a SAVEPOINT. A logical transaction that ends while others wait for the writer
/// releases its savepoint and hands the writer on without committing; the one that ends with
/// nobody waiting (or when the group reached `maxMembers` or `maxAge`) commits for all, and
/// every member's `commit` returns only then, with the shared outcome. A logical transaction
/// that rolls back rolls back to its own savepoint: the others' writes stay. Alone, a
/// transaction commits at once, as before.
///
/// A statement failure that ends the physical transaction itself (an I/O error, a full disk)
/// fails every member of the group: none is answered as committed when it was not.
final class GroupCommit: @unchecked Sendable {
    /// One physical transaction and the logical ones that committed into it.
    final class Group: @unchecked Sendable {
        // Guarded by `done`.
        private let done = NSCondition()
        private var outcome: StorageError??
        fileprivate var members = 0
        fileprivate var aborted: StorageError?
        fileprivate let opened = DispatchTime.now()

        fileprivate func finish(_ error: StorageError?) {
            done.lock()
            outcome = .some(error)
            done.broadcast()
            done.unlock()
        }

        fileprivate func wait() -> StorageError? {
            done.lock()
            defer { done.unlock() }
            while outcome == nil { done.wait() }
            return outcome!
        }
    }

    let maxMembers: Int
    let maxAge: Double

    // Guarded by `turn`.
    private let turn = NSCondition()
    private var held = false
    private var waiting = 0
    private var group: Group?

    init(maxMembers: Int = 64, maxAge: Double = 0.002) {
        self.maxMembers = maxMembers
        self.maxAge = maxAge
    }

    /// Take the writer (waiting at most `timeout`), opening a physical transaction with
    /// `begin` when none is open. Returns the group the caller joins.
    func enter(timeout: Double, begin: () throws -> Void) throws -> Group {
        let deadline = Date().addingTimeInterval(timeout)
        turn.lock()
        waiting += 1
        while held {
            if !turn.wait(until: deadline) && held {
                waiting -= 1
                turn.unlock()
                throw StorageError(kind: .busy, message: "the database writer stayed busy for too long; try again")
            }
        }
        waiting -= 1
        held = true
        let open = group
        turn.unlock()
        if let open { return open }
        do {
            try begin()
        } catch {
            releaseWriter()
            throw error
        }
        let fresh = Group()
        turn.lock()
        group = fresh
        turn.unlock()
        return fresh
    }

    /// The physical transaction of `group` ended by itself (SQLite rolled it back after an
    /// I/O error): every member fails, and the next transaction opens a new one.
    func abort(_ group: Group, _ error: StorageError) {
        turn.lock()
        group.aborted = group.aborted ?? error
        turn.unlock()
    }

    /// Leave the writer. `contributed`: the caller's savepoint was released into the group
    /// (a commit) rather than rolled back. Commits the group with `commit` when it is time;
    /// otherwise hands the writer to the next waiter and, for a contributor, waits for the
    /// group's commit. Returns the caller's outcome: nil once its writes are committed.
    func leave(_ joined: Group, contributed: Bool, commit: () -> StorageError?, rollback: () -> Void) -> StorageError? {
        turn.lock()
        if contributed { joined.members += 1 }
        let age = Double(DispatchTime.now().uptimeNanoseconds - joined.opened.uptimeNanoseconds) / 1e9
        let flush = waiting == 0 || joined.members >= maxMembers || age >= maxAge || joined.aborted != nil
        if flush { group = nil }
        turn.unlock()
        guard flush else {
            releaseWriter()
            return contributed ? joined.wait() : nil
        }
        let error: StorageError?
        if let aborted = joined.aborted {
            rollback()
            error = aborted
        } else if joined.members == 0 {
            rollback()
            error = nil
        } else {
            error = commit()
        }
        joined.finish(error)
        releaseWriter()
        return contributed ? error : nil
    }

    /// Let the next waiter take the writer.
    private func releaseWriter() {
        turn.lock()
        held = false
        turn.signal()
        turn.unlock()
    }
}

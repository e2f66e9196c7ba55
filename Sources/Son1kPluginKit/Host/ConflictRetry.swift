import Foundation

/// Running a transaction again after it conflicted with another (PostgreSQL's serialisation
/// failures): the one policy the SDK (a plugin's `ctx.db.transaction`) and the kernel (its own
/// transactions and single statements) share.
///
/// Nothing of a conflicted attempt was written, so it simply runs again after a random pause
/// that grows with the attempt (1–2 ms, 2–4 ms, … at most 64–128 ms), so the transactions
/// that collided spread out instead of colliding again.
package enum ConflictRetry {
    /// How many times a transaction that keeps conflicting runs (a few seconds at most).
    package static let attempts = 24
    /// The problem code of a conflict as it crosses the ABI.
    package static let code = "transaction_conflict"

    /// Run `body` until it succeeds, fails otherwise than by a conflict (`isConflict`), or ran
    /// `attempts` times; the last error is rethrown.
    package static func retrying<T>(attempts: Int = attempts, isConflict: (any Error) -> Bool, _ body: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do { return try body() } catch where isConflict(error) && attempt < attempts {
                let base = Double(1 << min(attempt - 1, 6)) / 1000
                Thread.sleep(forTimeInterval: base + Double.random(in: 0..<base))
                attempt += 1
            }
        }
    }
}

import Son1kPluginKit

/// "Once per period, whichever instance": several instances on one database each keep a
/// timer for the same periodic work (a plugin's scheduled action, the queue's housekeeping),
/// and a tick does the work only if it moves the work's `next_at` in `kernel_schedules`
/// forward. Ticks of other instances within the same period find it moved and do nothing; if
/// the instance that did it dies, the next tick of any other does it. Portable (no advisory
/// locks), so it works behind PgBouncer in transaction mode too.
enum PeriodClaim {
    /// Claim the current period of (`owner`, `name`) inside `tx`: true when this tick does the
    /// work. `now` and `periodMs` in milliseconds.
    static func take(owner: String, name: String, periodMs: Int64, now: Int64, in tx: any StorageTransaction) throws -> Bool {
        try take(owner: owner, name: name, periodMs: periodMs, now: now, execute: tx.execute)
    }

    /// The same as a statement of its own, for work that is not itself a transaction
    /// (the queue's housekeeping): on PostgreSQL it runs at READ COMMITTED, where the
    /// conditional upsert lets one instance through per period and conflicts with nothing.
    static func take(owner: String, name: String, periodMs: Int64, now: Int64, in storage: any Storage) throws -> Bool {
        try take(owner: owner, name: name, periodMs: periodMs, now: now, execute: storage.execute)
    }

    private static func take(owner: String, name: String, periodMs: Int64, now: Int64,
                             execute: (String, [SQLValue]) throws -> StorageChanges) throws -> Bool {
        // The next tick of the instance that claims comes one period later, give or take its
        // timer's lateness: it may claim a little early, so no other instance slips in between.
        let next = now + periodMs - min(500, periodMs / 10)
        // One statement: a first tick inserts (and claims), a due one moves it, any other
        // changes nothing. Both engines count only the rows actually written.
        return try execute("""
            INSERT INTO kernel_schedules (publisher, topic, next_at) VALUES (?, ?, ?)
            ON CONFLICT (publisher, topic) DO UPDATE SET next_at = excluded.next_at WHERE kernel_schedules.next_at <= ?
            """, [.text(owner), .text(name), .int(next), .int(now)]).changes == 1
    }
}

/// How a transaction is isolated from the ones running beside it.
///
/// On SQLite the two are the same: transactions never interleave (one writer at a time), so
/// every transaction is serializable. The difference is PostgreSQL's, where transactions run
/// in parallel:
///
/// - ``serializable`` (the default) keeps SQLite's promise. A transaction may read, decide,
///   then write (`SELECT COUNT(*)` … `INSERT` when under a limit) and be sure nobody changed
///   what it read meanwhile: when two could not have run one after the other, PostgreSQL
///   fails one with a conflict, and ``Database/transaction(isolation:_:)`` runs it again.
/// - ``readCommitted`` is PostgreSQL's own default. Each statement sees what was committed
///   when it started, so a decision made from one statement's reading may be stale by the
///   next. Two transactions conflict only on the rows both write: the second waits for the
///   first's row lock, re-checks its `WHERE` against the new row, and goes on — no conflict,
///   no rerun. Use it where every decision is one conditional statement (`UPDATE … WHERE
///   state = 'running' AND lease_id = ?`, `UPDATE … SET n = n + 1`, an upsert): there it is
///   exactly as safe, and under contention much faster, because serializable transactions
///   that touch the same busy tables abort one another even when their rows differ.
public enum Isolation: Int32, Sendable, CaseIterable {
    case serializable = 0
    case readCommitted = 1
}

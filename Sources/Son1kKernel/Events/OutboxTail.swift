import Foundation
import Logging
import Son1kPluginKit
import Synchronization

/// On PostgreSQL, where several instances share one outbox: reads the actions that any
/// instance committed and hands them to this instance's WebSocket clients.
///
/// A serial id alone would skip rows: a transaction that took an earlier id can commit after
/// one that took a later id, and a reader that already saw the later one moves past the
/// earlier for good. So each row carries the id of the transaction that wrote it
/// (`tx_id`, `pg_current_xact_id()`), and the tail reads only rows of transactions below the
/// oldest one still in flight (`pg_snapshot_xmin`): each of those has committed or rolled
/// back, so no row below the mark can appear later. Rows are read in `(tx_id, id)` order past
/// the last one read.
///
/// This instance's own actions reach its clients at commit (as on SQLite); the tail reads
/// the others' (`origin` differs), so a long transaction elsewhere on the server, which holds
/// the mark back, delays only what crosses between instances. It polls (every 250 ms by
/// default), without LISTEN/NOTIFY: one indexed read per instance per interval, and it works
/// behind PgBouncer in transaction mode.
final class OutboxTail: Sendable {
    private let storage: any Storage
    /// This process's `origin`: its own actions are streamed at commit, not here.
    private let origin: String
    private let logger: Logger
    private let deliver: @Sendable ([EventRecord]) -> Void
    /// Whether anybody here would receive what a read returns (a WebSocket client connected).
    private let wanted: @Sendable () -> Bool
    /// The last row read: its transaction id (as text) and event id.
    private let position = Mutex<(tx: String, id: String)?>(nil)
    private let loop: RepeatingThread

    init(storage: any Storage, origin: String, interval: Double = 0.25, logger: Logger,
         wanted: @escaping @Sendable () -> Bool = { true }, deliver: @escaping @Sendable ([EventRecord]) -> Void) {
        self.storage = storage
        self.origin = origin
        self.logger = logger
        self.wanted = wanted
        self.deliver = deliver
        loop = RepeatingThread(name: "son1k-outbox-tail", interval: interval)
    }

    /// Begin at what is committed now (no replay of history), on a thread of its own.
    func start() {
        loop.start { [self] in
            do {
                let events = try poll()
                if !events.isEmpty { deliver(events) }
            } catch {
                logger.warning("events: cannot read the outbox for this instance's WebSocket clients: \(error)")
            }
        }
    }

    func stop() { loop.stop() }

    /// One read: the actions committed since the last read, in `(tx_id, id)` order. The first
    /// call only marks where reading begins.
    /// While no WebSocket client is connected here, a read only moves the mark: under load the
    /// other instances' actions are hundreds a second, each read and decoded for nobody.
    func poll(limit: Int = 1000) throws -> [EventRecord] {
        guard let from = position.withLock({ $0 }), wanted() else {
            let mark = try storage.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin", []).first?["xmin"]?.string ?? "0"
            position.withLock { $0 = (mark, "") }
            return []
        }
        let rows = try storage.query("""
            SELECT \(EventRecord.columns), origin, tx_id::text AS tx FROM kernel_events
            WHERE (tx_id, id) > (?::xid8, ?) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx_id, id LIMIT ?
            """, [.text(from.tx), .text(from.id), .int(Int64(limit))])
        guard let last = rows.last, let tx = last["tx"]?.string, let id = last["id"]?.string else { return [] }
        position.withLock { $0 = (tx, id) }
        return rows.filter { $0["origin"]?.string != origin }.compactMap(EventRecord.init(row:))
    }
}

import Dispatch
import Son1kPluginKit
import Synchronization

/// Group commit for `POST /api/tiers/record-generation`.
///
/// Under load many of these arrive at once, and each transaction pays the same fixed costs:
/// its turn at the single database writer, the BEGIN and COMMIT round trips, a WAL write.
/// Here the first caller to find no batch running becomes the leader: it takes every
/// request queued so far and records them in one transaction, in arrival order, each
/// deciding on its own (``Quota/reserve(_:for:quality:source:status:in:known:)`` leaves
/// nothing behind for a refused request), commits once, and wakes the others. Requests that
/// arrive meanwhile form the next batch, led by the first of them. Nobody returns before the
/// commit that holds their record, so a 201 still means stored; if that commit fails, every
/// request of the batch gets the error and nothing of it is stored.
final class RecordBatcher: Sendable {
    /// One request; `result` and `leads` are written before `done` is signalled and read after.
    final class Request: @unchecked Sendable {
        let generationID: String
        let userID: String
        let quality: String
        fileprivate var result: Result<Quota.State, any Error> = .failure(PluginError(status: 500, code: "not_recorded", detail: "The batch did not run."))
        fileprivate var leads = false
        fileprivate let done = DispatchSemaphore(value: 0)

        init(generationID: String, userID: String, quality: String) {
            self.generationID = generationID
            self.userID = userID
            self.quality = quality
        }
    }

    private struct Line {
        var waiting: [Request] = []
        var running = false
    }
    private let line = Mutex(Line())

    /// Records `request` (in a batch) and returns the user's state as committed.
    func record(_ request: Request, _ quota: Quota) throws -> Quota.State {
        let leads = line.withLock { l -> Bool in
            l.waiting.append(request)
            if l.running { return false }
            l.running = true
            return true
        }
        if !leads {
            request.done.wait()
            guard request.leads else { return try request.result.get() }
        }
        lead(request, quota)
        return try request.result.get()
    }

    private func lead(_ me: Request, _ quota: Quota) {
        let batch = line.withLock { l -> [Request] in
            defer { l.waiting.removeAll(keepingCapacity: true) }
            return l.waiting
        }
        do {
            try quota.ctx.db.transaction { tx in
                // Each user's tier and storage read once per batch, inside it: exact, and a
                // burst from one account costs one read, not one per request.
                var users: [String: Quota.State] = [:]
                for r in batch {
                    let known = try users[r.userID] ?? quota.state(r.userID, in: tx, withCounts: false)
                    users[r.userID] = known
                    do {
                        r.result = .success(try quota.reserve(r.generationID, for: r.userID, quality: r.quality, source: "record",
                                                              status: "confirmed", in: tx, known: known))
                    } catch let refusal as PluginError where refusal.status < 500 {
                        // A refusal or a duplicate: that request wrote nothing; the others go on.
                        r.result = .failure(refusal)
                    }
                    // Any other error (the database failing mid-request) fails the whole batch,
                    // so no request's partial writes are committed.
                    if case .success = r.result { users[r.userID]?.userKnown = true }
                }
                // Each user's count as this batch commits it (one read per user, not per request).
                var counted: [String: Int] = [:]
                for r in batch {
                    guard case .success(var s) = r.result else { continue }
                    let key = r.userID + "\u{0}" + s.periods.key(for: s.tier.period)
                    let used = try counted[key] ?? quota.used(r.userID, s.periods.key(for: s.tier.period), in: tx)
                    counted[key] = used
                    if s.tier.period == .day { s.today = used } else { s.thisMonth = used }
                    r.result = .success(s)
                }
            }
        } catch {
            for r in batch { r.result = .failure(error) }
        }
        let next = line.withLock { l -> Request? in
            guard let first = l.waiting.first else {
                l.running = false
                return nil
            }
            first.leads = true
            return first
        }
        for r in batch where r !== me { r.done.signal() }
        next?.done.signal()
    }
}

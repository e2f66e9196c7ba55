import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static let tasks = PluginSpec(name: "tasks", library: "Son1kTestTasks")
}

/// The kernel's job queue through the `tasks` test plugin: enqueue in a request's
/// transaction, the kernel's workers, retries with backoff, time limits, postponement,
/// cancellation, unique keys, stale leases, per-user limits, and a crash in the middle.
@Suite struct JobQueueTests {
    /// The queue reaps every 50 ms here, so time limits and lost heartbeats show quickly.
    static let kernel: JSONValue = ["jobs": ["maintenance_interval_ms": 50]]

    @Test func aJobEnqueuedInARequestRunsOnTheKernelsWorkerAndCompletesWithItsActionOnce() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let r = try await k.request("POST", "/api/tasks", token: me.token, json: ["text": "hello"])
        #expect(r.status == 202, "\(r)")
        #expect(r.json["state"].string == "queued" && r.json["kind"].string == "echo" && r.json["queue"].string == "default", "\(r)")
        let id = try #require(r.json["id"].string)
        let done = try await k.task(id, me.token, until: "completed")
        #expect(done["attempt"].int == 1 && done["progress"].double == 1 && done["owner_id"].string == me.id, "\(done)")
        let counts = (try await k.integer("SELECT COUNT(*) AS n FROM tasks_requests") ?? 0,
                      try await k.integer("SELECT COUNT(*) AS n FROM kernel_events WHERE topic = 'tasks.echoed' AND \(k.jsonField("data", "job_id")) = ?", [.text(id)]) ?? 0)
        #expect(counts == (1, 1), "request rows and completion actions: \(counts)")
        // Someone else's job is not theirs to see.
        let other = try await k.register("stranger")
        #expect(try await k.request("GET", "/api/tasks/jobs/\(id)", token: other.token).status == 404)
    }

    @Test func aUniqueKeyGivesBackTheSameJob() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let first = try await k.request("POST", "/api/tasks", token: me.token, json: ["text": "once", "key": "order-42"])
        let second = try await k.request("POST", "/api/tasks", token: me.token, json: ["text": "once", "key": "order-42"])
        #expect(first.status == 202 && second.status == 202, "\(first) \(second)")
        #expect(first.json["id"] == second.json["id"] && first.json["duplicate"].bool == false && second.json["duplicate"].bool == true, "\(first) \(second)")
        let jobs = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE unique_key = 'order-42'") ?? 0
        #expect(jobs == 1)
    }

    @Test func failedAttemptsAreRetriedWithExponentialBackoffUntilTheyRunOut() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let flaky = try await k.chore(me.token, ["mode": "fail", "times": 2], ["max_attempts": 3, "backoff_base_ms": 200])
        let done = try await k.task(flaky, me.token, until: "completed")
        #expect(done["attempt"].int == 3 && done["error"].string == "attempt 2 failed on purpose", "\(done)")
        let changes = try await k.changes(flaky)
        #expect(changes.map(\.cause) == ["enqueued", "leased", "retrying", "leased", "retrying", "leased", "completed"], "\(changes)")
        // The wait doubles: 200 ms after the first attempt, 400 after the second (+ up to 10 %),
        // from the moment the failure was recorded to the time the retry may run.
        let waits = changes.filter { $0.cause == "retrying" }.map { $0.runAt - $0.at }
        #expect(waits.count == 2 && (200...220).contains(waits[0]) && (400...440).contains(waits[1]), "backoff waits (ms): \(waits)")

        let hopeless = try await k.chore(me.token, ["mode": "fail", "times": 99], ["max_attempts": 2, "backoff_base_ms": 10])
        let failed = try await k.task(hopeless, me.token, until: "failed")
        #expect(failed["attempt"].int == 2 && failed["error"].string == "attempt 2 failed on purpose", "\(failed)")
        let fatal = try await k.chore(me.token, ["mode": "fatal"], ["max_attempts": 5])
        let ended = try await k.task(fatal, me.token, until: "failed")
        #expect(ended["attempt"].int == 1, "a failure not worth retrying is not retried: \(ended)")
        // The plugin subscribed to queue.job_failed: it heard of both, once each.
        let heard = try await poll("both failures announced") {
            let rows = try await k.values("SELECT job_id FROM tasks_failures ORDER BY job_id").compactMap(\.string)
            return rows.count >= 2 ? rows : nil
        }
        #expect(heard == [hopeless, fatal].sorted())
    }

    @Test func anAttemptPastItsTimeLimitEndsTheJobAsTimeout() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let id = try await k.chore(me.token, ["mode": "hang", "seconds": 2], ["timeout_s": 0.3, "max_attempts": 3])
        let ended = try await k.task(id, me.token, until: "timeout", timeout: .seconds(5))
        #expect(ended["attempt"].int == 1 && ended["error"].string == "The attempt ran longer than 0.3 s.", "\(ended)")
        // The worker returns after 2 s and reports success: refused as a stale report, and the
        // job stays as it ended.
        let admin = try await k.adminToken()
        _ = try await poll("the hung worker's report refused", timeout: .seconds(10)) {
            let metrics = try await k.request("GET", "/metrics", token: admin).text
            return metrics.contains(#"son1k_jobs_stale_reports_total{queue="tasks.default"} 1"#) ? true : nil
        }
        let after = try await k.request("GET", "/api/tasks/jobs/\(id)", token: me.token).json
        #expect(after["state"].string == "timeout", "\(after)")
        #expect(try await k.changes(id).map(\.cause) == ["enqueued", "leased", "timeout"])
    }

    @Test func aPostponedJobComesBackWithoutSpendingAnAttempt() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let id = try await k.chore(me.token, ["mode": "postpone", "times": 2, "seconds": 0.1], ["max_attempts": 1])
        let done = try await k.task(id, me.token, until: "completed")
        #expect(done["attempt"].int == 1 && done["postponements"].int == 2, "\(done)")
        let given = try await k.chore(me.token, ["mode": "postpone", "times": 5, "seconds": 0.01], ["max_postponements": 2])
        let failed = try await k.task(given, me.token, until: "failed")
        #expect(failed["error"].string == "not yet (given up after 2 postponements)", "\(failed)")
    }

    @Test func cancellingStopsAWaitingJobAndARunningOne() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let later = try await k.chore(me.token, ["mode": "ok"], ["delay_s": 60])
        let cancelled = try await k.request("DELETE", "/api/tasks/jobs/\(later)", token: me.token)
        #expect(cancelled.status == 200 && cancelled.json["state"].string == "cancelled", "\(cancelled)")
        let again = try await k.request("DELETE", "/api/tasks/jobs/\(later)", token: me.token)
        #expect(again.status == 409 && again.json["code"].string == "not_cancellable", "\(again)")

        let slow = try await k.chore(me.token, ["mode": "slow", "seconds": 30], [:])
        _ = try await k.task(slow, me.token, until: "running")
        _ = try await poll("progress from the slow chore") {
            try await k.request("GET", "/api/tasks/jobs/\(slow)", token: me.token).json["progress"].double.map { $0 > 0 ? true : nil } ?? nil
        }
        #expect(try await k.request("DELETE", "/api/tasks/jobs/\(slow)", token: me.token).json["state"].string == "cancelled")
        // Its worker stops at its next report, which the queue refuses: long before its 30 s.
        _ = try await poll("the slow chore's next report refused", timeout: .seconds(10)) {
            let metrics = try await k.request("GET", "/metrics", token: try await k.adminToken()).text
            return metrics.contains(#"son1k_jobs_stale_reports_total{queue="tasks.default"}"#) ? true : nil
        }
        #expect(try await k.changes(slow).map(\.cause).filter { $0 != "progress" } == ["enqueued", "leased", "cancelled"])
    }

    @Test func aWorkerThatLostItsLeaseIsRefused() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let id = try await k.chore(me.token, ["mode": "ok"], ["queue": "manual", "heartbeat_timeout_s": 10, "max_attempts": 3])
        let a = try await k.request("POST", "/api/tasks/manual/lease", token: me.token, json: ["worker": "a"])
        let leaseA = try #require(a.json[0]["lease_id"].string, "\(a)")
        #expect(a.json[0]["id"].string == id && a.json[0]["attempt"].int == 1)
        // Worker a goes silent: its job returns to the queue and worker b leases it.
        // (Ten seconds of silence: on a machine running the whole suite, one request can take seconds.)
        _ = try await k.task(id, me.token, until: "queued", timeout: .seconds(40))
        let b = try await k.request("POST", "/api/tasks/manual/lease", token: me.token, json: ["worker": "b"])
        let leaseB = try #require(b.json[0]["lease_id"].string, "\(b)")
        #expect(b.json[0]["attempt"].int == 2 && leaseA != leaseB)
        // Worker b keeps its lease alive meanwhile, as a worker does, however slow the machine.
        let beating = Task {
            while !Task.isCancelled {
                _ = try? await k.request("POST", "/api/tasks/manual/heartbeat", token: me.token, json: ["worker": "b", "job_ids": [.string(id)]])
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { beating.cancel() }
        let lost = try await k.request("POST", "/api/tasks/manual/heartbeat", token: me.token, json: ["worker": "a", "job_ids": [.string(id)]])
        #expect(lost.json == [.string(id)], "a heartbeat tells worker a it lost the job: \(lost)")
        for action in ["complete", "progress", "fail"] {
            let stale = try await k.request("POST", "/api/tasks/manual/\(id)/report", token: me.token, json: ["action": .string(action), "lease_id": .string(leaseA), "worker": "a"])
            #expect(stale.status == 409 && stale.json["code"].string == "lease_lost", "\(action) with a lost lease: \(stale)")
        }
        let done = try await k.request("POST", "/api/tasks/manual/\(id)/report", token: me.token, json: ["action": "complete", "lease_id": .string(leaseB), "worker": "b"])
        beating.cancel()
        #expect(done.status == 200 && done.json["state"].string == "completed" && done.json["result"]["by"].string == "b", "\(done)")
        let twice = try await k.request("POST", "/api/tasks/manual/\(id)/report", token: me.token, json: ["action": "complete", "lease_id": .string(leaseB)])
        #expect(twice.status == 409, "\(twice)")
        #expect(try await k.changes(id).map(\.cause) == ["enqueued", "leased", "lost", "leased", "completed"])
    }

    @Test func badQueueRequestsAreClearErrorsAndWriteNothing() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let cases: [(JSONValue, JSONValue, Int, String)] = [
            (["mode": "ok"], ["queue": "nowhere"], 400, "unknown_queue"),
            (["mode": "ok"], ["delay_s": -1], 400, "invalid_job_request"),
            (["mode": "ok"], ["max_attempts": 0], 400, "invalid_job_request"),
            (["mode": .string(String(repeating: "x", count: 70_000))], [:], 413, "job_args_too_large"),
        ]
        for (chore, options, status, code) in cases {
            var body = options.object ?? [:]
            body["chore"] = chore
            let r = try await k.request("POST", "/api/tasks/chores", token: me.token, json: .object(body))
            #expect(r.status == status && r.json["code"].string == code && !(r.json["detail"].string ?? "").isEmpty, "\(options): \(r)")
        }
        #expect(try await k.request("DELETE", "/api/tasks/jobs/job_nope", token: me.token).status == 404)
        let flood = try await k.request("POST", "/api/tasks/manual/heartbeat", token: me.token,
                                        json: ["worker": "a", "job_ids": .array((0..<40_000).map { .string("job_\($0)") })])
        #expect(flood.status == 400 && flood.json["code"].string == "invalid_job_request", "\(flood)")
        #expect(try await k.request("POST", "/api/tasks/manual/job_nope/report", token: me.token, json: ["action": "complete", "lease_id": "x"]).status == 404)
        let jobs = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs") ?? -1
        #expect(jobs == 0)
    }

    @Test func theActiveJobLimitPerUserHoldsUnderConcurrency() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await k.request("POST", "/api/tasks/chores", token: me.token,
                                        json: ["chore": ["mode": "ok"], "queue": "manual", "max_active": 10])
                }
            }
            return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
        }
        let statuses = answers.reduce(into: [Int: Int]()) { $0[$1.status, default: 0] += 1 }
        #expect(statuses == [202: 10, 429: 40], "\(statuses); others: \(answers.filter { ![202, 429].contains($0.status) }.prefix(3))")
    }

    @Test func sigkillWithFiveHundredJobsInFlightLosesNoneAndCompletesEachOnce() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        // 8 workers take about 30 s for all of them: the kill lands while many are left, even
        // when the suite's load makes each look into the database slow.
        let batch = try await k.request("POST", "/api/tasks/batch", token: me.token, json: ["count": 500, "sleep_ms": 500])
        #expect(batch.status == 202 && batch.json["count"].int == 500, "\(batch)")
        _ = try await poll("a part of the jobs done", timeout: .seconds(30)) {
            let done = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE state = 'completed'") ?? 0
            return done >= 8 ? true : nil
        }
        k.kill()
        let before = try await k.rows("SELECT state, COUNT(*) AS n FROM kernel_jobs GROUP BY state")
            .reduce(into: [String: Int]()) { $0[$1["state"]?.string ?? ""] = $1["n"]?.int }
        #expect((before["running"] ?? 0) > 0 && (before["queued"] ?? 0) > 0, "jobs in flight when killed: \(before)")
        try await k.launch()
        _ = try await poll("every job completed after the restart", timeout: .seconds(120)) {
            let done = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE state = 'completed'") ?? 0
            return done == 500 ? true : nil
        }
        let jobs = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs") ?? 0
        let echoes = try await k.integer("SELECT COUNT(*) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") ?? 0
        let distinct = try await k.integer("SELECT COUNT(DISTINCT \(k.jsonField("data", "job_id"))) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") ?? 0
        #expect(jobs == 500 && echoes == 500 && distinct == 500, "jobs \(jobs), completion actions \(echoes) for \(distinct) job ids")
    }

    @Test func aBatchIsEnqueuedInOneCallAndEveryJobRunsOnce() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let r = try await k.request("POST", "/api/tasks/noops", token: me.token, json: ["count": 2000])
        #expect(r.status == 202 && r.json["count"].int == 2000, "\(r)")
        let done = try await poll("the batch to run", timeout: .seconds(60 * k.backend.patience)) {
            let n = try await k.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE queue = 'tasks.noop' AND state = 'completed' AND attempt = 1") ?? 0
            return n == 2000 ? n : nil
        }
        #expect(done == 2000)
        let ids = try await k.values("SELECT id FROM kernel_jobs WHERE queue = 'tasks.noop' ORDER BY id").compactMap(\.string)
        #expect(ids.count == 2000 && ids.contains(r.json["first"].string ?? "") && ids.contains(r.json["last"].string ?? ""), "the ids answered are the jobs run")
    }

    @Test func theAdminViewShowsQueuesRunningJobsAndFailures() async throws {
        let k = try await TestKernel.start([.tasks], kernel: Self.kernel)
        defer { k.stop() }
        let me = try await k.register("author")
        let admin = try await k.adminToken()
        #expect(try await k.request("GET", "/api/admin/queues", token: me.token).status == 403)
        let fatal = try await k.chore(me.token, ["mode": "fatal"], [:])
        _ = try await k.task(fatal, me.token, until: "failed")
        let slow = try await k.chore(me.token, ["mode": "slow", "seconds": 20], [:])
        _ = try await k.task(slow, me.token, until: "running")
        _ = try await k.chore(me.token, ["mode": "ok"], ["queue": "manual"])
        let view = try await k.request("GET", "/api/admin/queues", token: admin)
        #expect(view.status == 200, "\(view)")
        let queues = view.json["queues"].array ?? []
        let main = try #require(queues.first { $0["name"].string == "tasks.default" }, "\(view)")
        let manual = try #require(queues.first { $0["name"].string == "tasks.manual" }, "\(view)")
        #expect(main["worker_threads"].int == 12 && main["failed"].int == 1 && main["running"].int == 1, "\(main)")
        #expect(manual["worker_threads"].int == 0 && manual["queued"].int == 1 && manual["due"].int == 1, "\(manual)")
        #expect(view.json["running"].array?.contains { $0["id"].string == slow } == true)
        #expect(view.json["failures"].array?.first?["id"].string == fatal)
        _ = try await k.request("DELETE", "/api/tasks/jobs/\(slow)", token: me.token)
    }
}

extension TestKernel {
    /// Enqueue a chore; returns its id.
    func chore(_ token: String, _ chore: JSONValue, _ options: JSONValue) async throws -> String {
        var body = options.object ?? [:]
        body["chore"] = chore
        let r = try await request("POST", "/api/tasks/chores", token: token, json: .object(body))
        guard r.status == 202, let id = r.json["id"].string else { throw TestFailure("enqueue failed: \(r)") }
        return id
    }

    /// Poll a job of the tasks plugin until it is in `state`.
    func task(_ id: String, _ token: String, until state: String, timeout: Duration = .seconds(15)) async throws -> JSONValue {
        try await poll("\(id) to be \(state)", timeout: timeout) {
            let r = try await request("GET", "/api/tasks/jobs/\(id)", token: token)
            guard r.status == 200 else { throw TestFailure("GET \(id): \(r)") }
            let now = r.json["state"].string ?? ""
            if now != state, let final = JobInfo.State(rawValue: now), final.isFinal { throw TestFailure("\(id) ended \(now), not \(state): \(r)") }
            // (`r.json` as an optional: a bare `nil` would be read as JSON null.)
            return now == state ? Optional(r.json) : nil
        }
    }

    struct Change: CustomStringConvertible {
        var cause: String
        var runAt: Int64
        /// When the job changed (its `updated_at`).
        var at: Int64
        var description: String { cause }
    }

    /// The changes the tasks plugin heard of for one job, in order.
    func changes(_ id: String) async throws -> [Change] {
        try await rows("SELECT cause, run_at_ms, at_ms FROM tasks_changes WHERE job_id = ? ORDER BY id", [.text(id)])
            .map { Change(cause: $0["cause"]?.string ?? "", runAt: Int64($0["run_at_ms"]?.int ?? 0), at: Int64($0["at_ms"]?.int ?? 0)) }
    }
}

/// Transactions that share one physical commit stay each other's strangers: a request that
/// fails (here: a primary key broken on purpose after two good rows) leaves nothing, and every
/// request answered as written is there in full.
@Suite struct GroupCommitTests {
    @Test func thirtyTwoClientsHalfOfThemFailingKeepEveryGoodRequestAndNothingOfTheBadOnes() async throws {
        let k = try await TestKernel.start([.tasks])
        defer { k.stop() }
        let me = try await k.register("writer")
        let results = try await withThrowingTaskGroup(of: [(String, Bool, Int)].self) { group in
            for client in 0..<32 {
                group.addTask {
                    var mine: [(String, Bool, Int)] = []
                    for n in 0..<12 {
                        let key = "c\(client)-\(n)", fail = (client + n) % 2 == 1
                        let r = try await k.request("POST", "/api/tasks/notes", token: me.token, json: ["key": .string(key), "fail": .bool(fail)])
                        mine.append((key, fail, r.status))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(results.count == 384)
        let wrong = results.filter { $0.1 ? $0.2 != 409 : $0.2 != 204 }
        #expect(wrong.isEmpty, "answers other than 204 for good requests and 409 for bad ones: \(wrong.prefix(5))")
        let stored = try await k.rows("SELECT key, part FROM tasks_notes").reduce(into: [String: Int]()) { $0[$1["key"]?.string ?? ""] = $1["part"]?.int }
        let good = results.filter { !$0.1 }.map(\.0), bad = results.filter { $0.1 }.map(\.0)
        let missing = good.filter { stored[$0] != 1 || stored[$0 + "-b"] != 2 }
        let leaked = bad.filter { stored[$0] != nil || stored[$0 + "-b"] != nil }
        #expect(missing.isEmpty && leaked.isEmpty, "good requests missing rows: \(missing.prefix(5)); failed requests with rows: \(leaked.prefix(5))")
        #expect(stored.count == 2 * good.count)
    }
}

import Foundation
import Son1kPluginKit
import Testing

/// Two `son1k serve` processes on one PostgreSQL database, addressed directly: what a user
/// sees does not depend on which instance a request reaches.
@Suite(.serialized) struct InstancesTests {
    /// Two instances of one deployment: the same plugins and database, data directories apart.
    static func pair(_ plugins: [PluginSpec], kernel: JSONValue = [:], on cluster: PostgresCluster? = nil) async throws -> (TestKernel, TestKernel) {
        let url = try await onThread { try (cluster ?? PostgresCluster.shared()).freshDatabase() }
        let a = try await TestKernel.start(plugins, kernel: kernel, environment: ["DATABASE_URL": url], backend: .postgres)
        let b = try await TestKernel.start(plugins, kernel: kernel, environment: ["DATABASE_URL": url], backend: .postgres)
        return (a, b)
    }

    @Test func aFreeUsersHundredConcurrentGenerationsAcrossTwoInstancesTakeExactlyThree() async throws {
        let (a, b) = try await Self.pair([.generation(["builtin_workers": 0]), .tiers()])
        defer { a.stop(); b.stop() }
        // Registered through one, signed in through the other: one signing secret.
        let me = try await a.register("everywhere")
        #expect(try await b.request("GET", "/api/auth/me", token: me.token).json["id"].string == me.id)

        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for n in 0..<100 {
                group.addTask {
                    let k = n % 2 == 0 ? a : b
                    return (n % 2, try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": .string("song \(n)"), "duration_s": 5]).status)
                }
            }
            return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
        }
        let statuses = answers.reduce(into: [Int: Int]()) { $0[$1.1, default: 0] += 1 }
        #expect(statuses == [202: 3, 429: 97], "\(statuses)")
        #expect(Set(answers.map(\.0)) == [0, 1], "both instances answered")
        for k in [a, b] {
            #expect(try await k.request("GET", "/api/generations", token: me.token).json["items"].array?.count == 3)
            #expect(try await k.limits(me.token)["usage"]["today"] == 3)
        }
    }

    @Test func aThousandJobsSubmittedThroughBothAreWorkedByBothAndEachCompletedOnce() async throws {
        let (a, b) = try await Self.pair([.tasks], kernel: JobQueueTests.kernel)
        defer { a.stop(); b.stop() }
        let me = try await a.register("submitter")
        for k in [a, b] {
            let r = try await k.request("POST", "/api/tasks/batch", token: me.token, json: ["count": 500, "sleep_ms": 5])
            #expect(r.status == 202 && r.json["count"].int == 500, "\(r)")
        }
        _ = try await poll("all 1000 jobs to complete", timeout: .seconds(120), every: .milliseconds(250)) {
            try await a.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE state = 'completed'") == 1000 ? true : nil
        }
        #expect(try await a.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE state = 'completed' AND attempt = 1") == 1000,
                "no job leased twice")
        #expect(try await a.integer("SELECT COUNT(DISTINCT worker) AS n FROM kernel_jobs") == 2, "both instances' workers took part")
        _ = try await poll("each completion's action recorded") {
            try await a.integer("SELECT COUNT(*) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") == 1000 ? true : nil
        }
        #expect(try await a.integer("SELECT COUNT(DISTINCT \(a.jsonField("data", "job_id"))) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") == 1000)
    }

    /// On a server of its own: what crosses instances waits for every transaction older than
    /// it on the whole server (docs/DECISIONS.md), and the shared test server always has some.
    @Test func anActionCommittedThroughOneInstanceReachesAWebSocketClientOfTheOther() async throws {
        let cluster = try await onThread { try PostgresCluster.dedicated() }
        let (a, b) = try await Self.pair([.hello], on: cluster)
        defer {
            a.stop()
            b.stop()
            Thread { cluster.stop() }.start()
        }
        let me = try await a.register("listener")
        let socket = try await EventSocket.open(b, token: me.token)
        defer { socket.close() }
        // The server registers the subscriber right after the upgrade; publish until one arrives.
        // Generous: under the whole suite's load the first one can take a while to arrive.
        _ = try await poll("a first action to cross over", timeout: .seconds(30), every: .milliseconds(250)) { () -> Bool? in
            let posted = try await a.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "warm-up"])
            guard posted.status == 201 else { throw TestFailure("greeting through A: \(posted)") }
            return socket.events.isEmpty ? nil : true
        }
        // Then one action, timed: published on A, heard on B.
        let start = ContinuousClock.now
        let posted = try await a.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "timed"])
        #expect(posted.status == 201)
        let heard: JSONValue
        do {
            heard = try await poll("the timed action on B's WebSocket", timeout: .seconds(5), every: .milliseconds(20)) { () -> JSONValue? in
                socket.events.first { $0["data"]["name"] == "timed" }
            }
        } catch {
            throw TestFailure("\(error); B said:\n\(b.log.suffix(3000))")
        }
        #expect(heard["topic"] == "hello.greeted" && heard["user_id"].string == me.id)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(socket.events.filter { $0["data"]["name"] == "timed" }.count == 1, "once, not once per instance")
    }

    /// A deploy that starts every instance at once on a new database: each migration is
    /// applied once, by whichever instance comes first, and none of them reports a failure.
    @Test func instancesMigratingOneNewDatabaseAtOnceTakeTurns() async throws {
        let url = try await onThread { try PostgresCluster.shared().freshDatabase() }
        let k = try TestKernel(plugins: [.hello, .generation(), .tiers(), .pool()], environment: ["DATABASE_URL": url], backend: .postgres)
        defer { k.stop() }
        let runs = try await withThrowingTaskGroup(of: (status: Int32, output: String).self) { group in
            for _ in 0..<4 { group.addTask { try await k.cli(["migrate"]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for run in runs {
            #expect(run.status == 0 && !run.output.contains("failed"), "\(run.output)")
            #expect(["hello", "generation", "tiers", "pool"].allSatisfy { run.output.contains("\($0): up to date") }, "\(run.output)")
        }
        let applied = try await k.integer("SELECT COUNT(*) AS n FROM kernel_migrations")
        #expect(applied ?? 0 > 0)
        try await k.launch()
        #expect(try await k.request("GET", "/api/plugins").json["plugins"].array?.allSatisfy { $0["state"] == "running" } == true)
        #expect(try await k.integer("SELECT COUNT(*) AS n FROM kernel_migrations") == applied, "the start-up found nothing left to apply")
    }

    /// Blobs in one S3 bucket: written through A, read through B, with B checking the reader.
    @Test func aBlobWrittenThroughOneInstanceIsReadThroughTheOther() async throws {
        let s3 = try await S3Fake.start()
        defer { s3.stop() }
        let (a, b) = try await Self.pair([.hello], kernel: ["blobs": s3.blobsBlock()])
        defer { a.stop(); b.stop() }
        let owner = try await a.register("uploader")
        let stranger = try await b.register("onlooker")
        let bytes = (0..<4096).map { UInt8(($0 * 7) % 256) }
        let up = try await a.request("PUT", "/api/hello/avatar", token: owner.token, body: bytes, headers: ["Content-Type": "image/webp"])
        let id = try #require(up.json["id"].string, "\(up)")
        let read = try await b.request("GET", "/api/blobs/\(id)", token: owner.token)
        #expect(read.status == 200 && read.body == bytes, "\(read)")
        #expect(read.headers["content-type"] == "image/webp")
        let part = try await b.request("GET", "/api/blobs/\(id)", token: owner.token, headers: ["Range": "bytes=4000-"])
        #expect(part.status == 206 && part.body == Array(bytes[4000...]), "\(part)")
        #expect(try await b.request("GET", "/api/blobs/\(id)", token: stranger.token, followRedirects: false).status == 404)
    }

    /// `kill -9` of one instance while both work jobs and deliver actions: its leased jobs go
    /// back to the queue after their heartbeat timeout and the other completes them; every
    /// action is delivered, its transactional subscriber's effect applied once per event id.
    @Test func killingOneInstanceUnderLoadLosesNoJobAndNoAction() async throws {
        let kernel: JSONValue = ["jobs": ["maintenance_interval_ms": 100], "events": ["lease_ms": 1500, "retry_base_ms": 50, "max_attempts": 20]]
        let (a, b) = try await Self.pair([.tasks, .hello, .cplugin], kernel: kernel)
        defer { a.stop(); b.stop() }
        let me = try await a.register("under-load")
        let heartbeatTimeout = 2.0, sleepMs = 400
        for k in [a, b] {
            let r = try await k.request("POST", "/api/tasks/batch", token: me.token,
                                        json: ["count": 120, "sleep_ms": .number(Double(sleepMs)), "heartbeat_timeout_s": .number(heartbeatTimeout)])
            #expect(r.status == 202, "\(r)")
        }
        // Actions for the C plugin's transactional subscription, published through both.
        let greetings = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<80 {
                    // A request to A as it dies fails: -1.
                    group.addTask { (try? await (n % 2 == 0 ? a : b).request("POST", "/api/hello/greetings", token: me.token, json: ["name": .string("guest \(n)")]).status) ?? -1 }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        _ = try await poll("both instances running jobs", timeout: .seconds(30)) {
            try await b.integer("SELECT COUNT(DISTINCT worker) AS n FROM kernel_jobs WHERE state = 'running'") == 2 ? true : nil
        }
        a.kill()
        let killed = ContinuousClock.now
        let posted = try await greetings.value
        let accepted = posted.filter { $0 == 201 }.count
        #expect(accepted >= 40, "B's greetings all went through, A's until it died: \(posted)")

        _ = try await poll("every job completed", timeout: .seconds(90), every: .milliseconds(250)) {
            try await b.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE state = 'completed'") == 240 ? true : nil
        }
        // The worst case: the heartbeat timeout, a reaper round, then B's 8 workers on what is left.
        let bound = heartbeatTimeout + 0.1 + Double(240 * sleepMs) / 1000 / 8 + 10
        #expect((ContinuousClock.now - killed).inSeconds < bound, "completed \(ContinuousClock.now - killed) after the kill (bound \(bound) s)")
        #expect(try await b.integer("SELECT COUNT(*) AS n FROM kernel_jobs WHERE attempt = 2") ?? 0 > 0, "A's jobs went back and ran again")
        #expect(try await b.integer("SELECT COUNT(*) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") == 240, "each job completed once")
        #expect(try await b.integer("SELECT COUNT(DISTINCT \(b.jsonField("data", "job_id"))) AS n FROM kernel_events WHERE topic = 'tasks.echoed'") == 240)

        // The audit: every greeting recorded reached the C plugin, once, its delivery settled.
        let greeted = Set(try await b.values("SELECT id FROM kernel_events WHERE topic = 'hello.greeted'").compactMap(\.string))
        #expect(greeted.count >= accepted)
        _ = try await poll("every greeting delivered", timeout: .seconds(30), every: .milliseconds(250)) {
            try await b.integer("SELECT COUNT(*) AS n FROM kernel_deliveries WHERE subscriber = 'cplugin' AND status = 'delivered'") == greeted.count ? true : nil
        }
        let logged = try await b.values("SELECT event_id FROM cplugin_log WHERE topic = 'hello.greeted'").compactMap(\.string)
        #expect(logged.count == greeted.count && Set(logged) == greeted, "one effect per event id: \(logged.count) for \(greeted.count)")
    }
}

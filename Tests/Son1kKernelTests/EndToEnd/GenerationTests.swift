import Foundation
import Son1kMusicEngine
import Son1kPluginKit
import Testing

/// The generation plugin over real HTTP: the queue, the built-in workers running the
/// procedural engine, `son1k worker` processes, and a server killed mid-job.
@Suite(.serialized) struct GenerationTests {
    @Test func aPromptBecomesASongWithLiveProgressAndAPlayableWAV() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 1])])
        defer { k.stop() }
        let me = try await k.register("composer")
        let socket = try await EventSocket.open(k, token: me.token)
        defer { socket.close() }

        var jobs: [Quality: String] = [:]
        for quality in Quality.allCases {
            let job = try await k.generate(me.token, ["prompt": "an energetic rock song about the sea", "duration_s": 6,
                                                      "quality": .string(quality.rawValue), "seed": 11])
            #expect(job["status"] == "queued" && job["seed"] == 11 && job["quality"] == .string(quality.rawValue))
            jobs[quality] = job["id"].string!
        }
        for (quality, id) in jobs {
            let done = try await k.job(id, me.token, until: ["completed"])
            #expect(done["progress"] == 1 && done["attempts"] == 1)
            #expect(done["result"]["genre"] == "rock" && done["result"]["bpm"].int != nil)
            #expect((done["result"]["chords"].array ?? []).count >= 3 && (done["result"]["instruments"].array ?? []).count >= 3)

            let audio = try await k.request("GET", "/api/generations/\(id)/audio", token: me.token)
            #expect(audio.status == 200 && audio.headers["content-type"] == "audio/wav")
            let wav = try #require(WAV.parse(audio.body), "the download parses as WAV")
            #expect(wav.sampleRate == quality.sampleRate && wav.channels == quality.channels)
            #expect(abs(wav.durationSeconds - 6) / 6 < 0.05)
            #expect(wav.rms16(audio.body) > 0.02, "not silence")
            #expect(done["audio"]["size"].int == audio.body.count)

            let part = try await k.request("GET", "/api/generations/\(id)/audio", token: me.token, headers: ["Range": "bytes=0-43"])
            #expect(part.status == 206 && part.body == Array(audio.body[0..<44]))
            #expect(part.headers["content-range"] == "bytes 0-43/\(audio.body.count)")
            let blob = try await k.request("GET", "/api/blobs/\(done["audio"]["blob_id"].string!)", token: me.token)
            let blobMatches = sameBytes(blob.body, audio.body)
            #expect(blob.status == 200 && blobMatches.equal, "\(blobMatches.description)")
        }
        // Progress and completion arrived over the WebSocket for each job, in order.
        let events = try await poll("completion events on the WebSocket") { () -> [JSONValue]? in
            let all = socket.events
            return Set(all.filter { $0["topic"] == "generation.completed" }.compactMap { $0["data"]["generation_id"].string }) == Set(jobs.values) ? all : nil
        }
        for id in jobs.values {
            let mine = events.filter { $0["data"]["generation_id"].string == id }
            let progress = mine.filter { $0["topic"] == "generation.progress" && $0["data"]["status"] == "processing" }.compactMap { $0["data"]["progress"].double }
            #expect(!progress.isEmpty && progress == progress.sorted(), "processing progress for \(id): \(progress)")
            #expect(mine.last?["topic"] == "generation.completed")
            #expect(mine.last?["data"]["audio_blob_id"].string != nil && mine.last?["data"]["size"].int != nil)
        }
    }

    @Test func theSamePromptSeedAndQualityGiveTheSameBytes() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 2])])
        defer { k.stop() }
        let me = try await k.register("twins")
        let base: JSONValue = ["prompt": "calm lofi for studying", "duration_s": 5, "seed": 7]
        var variants: [JSONValue] = [base, base]
        var other = base; other["seed"] = 8; variants.append(other)
        var genre = base; genre["genre"] = "metal"; variants.append(genre)
        variants.append(["prompt": "calm lofi for studying", "duration_s": 5])  // seed drawn by the server
        var ids: [String] = []
        for body in variants { ids.append(try await k.generate(me.token, body)["id"].string!) }
        var audio: [[UInt8]] = []
        var drawnSeed: JSONValue = .null
        for id in ids {
            let done = try await k.job(id, me.token, until: ["completed"])
            drawnSeed = done["seed"]
            audio.append(try await k.request("GET", "/api/generations/\(id)/audio", token: me.token).body)
        }
        let same = sameBytes(audio[0], audio[1])
        #expect(same.equal, "same prompt, seed and quality: \(same.description)")
        #expect(!sameBytes(audio[0], audio[2]).equal, "another seed")
        #expect(!sameBytes(audio[0], audio[3]).equal, "another genre")
        // The recorded seed reproduces a job that did not name one.
        let again = try await k.generate(me.token, ["prompt": "calm lofi for studying", "duration_s": 5, "seed": drawnSeed])
        _ = try await k.job(again["id"].string!, me.token, until: ["completed"])
        let reproduced = sameBytes(try await k.request("GET", "/api/generations/\(again["id"].string!)/audio", token: me.token).body, audio[4])
        #expect(reproduced.equal, "the recorded seed reproduces the song: \(reproduced.description)")
    }

    @Test func killingTheServerMidJobLosesNothingAndDoesNothingTwice() async throws {
        // The heartbeat must outlast a loaded machine's pauses, or a render loses its lease again
        // and again; on PostgreSQL every heartbeat is a round trip to a busy shared server.
        let k = try await TestKernel.start([.generation(["builtin_workers": 1, "heartbeat_timeout_s": .number(2 * Backend.current.patience)])])
        defer { k.stop() }
        let me = try await k.register("survivor")
        var ids: [String] = []
        // Half a minute of ultra audio each (about two seconds of rendering in a debug build), so
        // the kill lands while one renders rather than just after it finished.
        for seed in 1...5 {
            ids.append(try await k.generate(me.token, ["prompt": "epic orchestral battle", "duration_s": 30, "quality": "ultra", "seed": .number(Double(seed))])["id"].string!)
        }
        let processing = try await poll("a job to be processing", timeout: .seconds(30)) { () -> String? in
            for id in ids where try await k.request("GET", "/api/generations/\(id)", token: me.token).json["status"] == "processing" { return id }
            return nil
        }
        k.kill()
        try await k.launch()
        for id in ids { _ = try await k.job(id, me.token, until: ["completed"], timeout: .seconds(180)) }
        let completed = try await k.eventCounts("generation.completed")
        #expect(Set(completed.keys) == Set(ids), "every job completed")
        #expect(completed.values.allSatisfy { $0 == 1 }, "none completed twice: \(completed)")
        let interrupted = try await k.request("GET", "/api/generations/\(processing)", token: me.token).json
        #expect(interrupted["attempts"] == 2, "the interrupted job was retried: \(interrupted)")
    }

    @Test func externalWorkersNeverShareAJobAndASilentWorkerLosesIt() async throws {
        // Long enough that a working `son1k worker` never misses it, even on a loaded PostgreSQL.
        let heartbeat = 2 * Backend.current.patience
        let k = try await TestKernel.start([.generation(["builtin_workers": 0, "heartbeat_timeout_s": .number(heartbeat), "max_active_per_user": 100])])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let workerToken = try await k.apiToken(role: "worker", admin: admin)
        let me = try await k.register("queue")
        var ids: [String] = []
        for seed in 1...12 { ids.append(try await k.generate(me.token, ["prompt": "pop", "duration_s": 5, "seed": .number(Double(seed))])["id"].string!) }

        // Six pollers race for the jobs; none of them ever sends a heartbeat.
        let leases = try await withThrowingTaskGroup(of: [(String, Int)].self) { group in
            for n in 0..<6 {
                group.addTask {
                    var mine: [(String, Int)] = []
                    while true {
                        let r = try await k.request("POST", "/api/worker/jobs/next", token: workerToken, json: ["worker_id": .string("poller-\(n)"), "wait_s": 0])
                        if r.status == 204 { return mine }
                        guard r.status == 200, let id = r.json["id"].string, let attempt = r.json["attempt"].int else { throw TestFailure("lease: \(r)") }
                        mine.append((id, attempt))
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let firstLeases = leases.filter { $0.1 == 1 }.map(\.0)
        #expect(firstLeases.count == Set(firstLeases).count, "a job was leased twice: \(firstLeases)")
        #expect(Set(firstLeases) == Set(ids))

        // Silent for heartbeat_timeout_s: the jobs go back to the queue.
        for id in ids { _ = try await k.job(id, me.token, until: ["queued"], timeout: .seconds(20)) }

        // Two `son1k worker` processes finish them.
        let workers = [try k.externalWorker(id: "cli-a", token: workerToken), try k.externalWorker(id: "cli-b", token: workerToken)]
        defer { for w in workers where w.isRunning { w.terminate(); w.waitUntilExit() } }
        for id in ids {
            let done = try await k.job(id, admin, until: ["completed"])
            #expect(done["attempts"] == 2 && ["cli-a", "cli-b"].contains(done["worker_id"].string ?? ""), "\(done)")
        }
        #expect(try await k.eventCounts("generation.completed").values.allSatisfy { $0 == 1 })
        let listed = try await k.request("GET", "/api/admin/workers", token: admin).json["workers"].array ?? []
        let cli = listed.filter { ["cli-a", "cli-b"].contains($0["id"].string ?? "") }
        #expect(cli.reduce(0) { $0 + ($1["completed"].int ?? 0) } == 12)
        #expect(cli.allSatisfy { $0["alive"] == true && $0["kind"] == "external" })
        let pollers = listed.filter { ($0["id"].string ?? "").hasPrefix("poller-") }
        #expect(pollers.count == 6 && pollers.allSatisfy { $0["alive"] == false }, "the silent pollers are listed, not alive")
    }

    @Test func failuresAreRetriedWithBackoffThenFailAndOverdueJobsTimeOut() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 0, "retry_base_ms": 1000, "timeout_s": 2, "heartbeat_timeout_s": 30])])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let me = try await k.register("unlucky")
        func lease(wait: Double) async throws -> JSONValue? {
            let r = try await k.request("POST", "/api/worker/jobs/next", token: worker, json: ["worker_id": "flaky", "wait_s": .number(wait)])
            // Not a ternary: JSONValue takes `nil` as a literal, which would turn "no job" into `.null`.
            guard r.status != 204 else { return nil }
            return r.json
        }
        func fail(_ l: JSONValue, _ message: String, retryable: Bool = true) async throws -> JSONValue {
            let r = try await k.request("POST", "/api/worker/jobs/\(l["id"].string!)/fail", token: worker,
                                        json: ["worker_id": "flaky", "lease_id": l["lease_id"], "error": .string(message), "retryable": .bool(retryable)])
            #expect(r.status == 200, "\(r)")
            return r.json
        }

        let job = try await k.generate(me.token, ["prompt": "blues", "duration_s": 5])
        var l = try #require(try await lease(wait: 5))
        let firstLease = l
        #expect(l["id"] == job["id"] && l["attempt"] == 1 && l["job"]["prompt"] == "blues")
        var after = try await fail(l, "boom 1")
        #expect(after["status"] == "queued" && after["error"] == "boom 1" && after["next_attempt_at"].string != nil)
        #expect(try await lease(wait: 0) == nil, "not before the backoff")
        for (attempt, minimum) in [(2, 0.8), (3, 1.8)] {
            let started = Date()
            l = try #require(try await lease(wait: 10))
            #expect(l["attempt"].int == attempt && Date().timeIntervalSince(started) >= minimum, "backoff doubles")
            after = try await fail(l, "boom \(attempt)")
        }
        #expect(after["status"] == "failed" && after["attempts"] == 3 && after["error"] == "boom 3")
        #expect(try await k.eventCounts("generation.failed")[job["id"].string!] == 1)
        let stale = try await k.request("POST", "/api/worker/jobs/\(job["id"].string!)/progress", token: worker,
                                        json: ["worker_id": "flaky", "lease_id": firstLease["lease_id"], "progress": 0.5])
        #expect(stale.status == 409 && stale.json["code"] == "lease_lost")

        let fatal = try await k.generate(me.token, ["prompt": "jazz", "duration_s": 5])
        after = try await fail(try #require(try await lease(wait: 5)), "unsupported", retryable: false)
        #expect(after["id"] == fatal["id"] && after["status"] == "failed" && after["attempts"] == 1)

        // Leased, heartbeating, never finished: past timeout_s it ends as `timeout`.
        let slow = try await k.generate(me.token, ["prompt": "ambient", "duration_s": 5])
        let slowLease = try #require(try await lease(wait: 5))
        let timedOut = try await poll("the job to time out", timeout: .seconds(15), every: .milliseconds(250)) { () -> JSONValue? in
            _ = try await k.request("POST", "/api/worker/heartbeat", token: worker, json: ["worker_id": "flaky"])
            let j = try await k.request("GET", "/api/generations/\(slow["id"].string!)", token: me.token).json
            guard j["status"] == "timeout" else { return nil }
            return j
        }
        #expect(timedOut["error"].string?.contains("2 s") == true)
        #expect(try await k.eventCounts("generation.timeout")[slow["id"].string!] == 1)
        let late = try await k.request("POST", "/api/worker/jobs/\(slow["id"].string!)/complete?worker_id=flaky&lease_id=\(slowLease["lease_id"].string!)",
                                       token: worker, body: WAV.encode(interleaved: [0, 0.1], sampleRate: 8000, channels: 1), headers: ["Content-Type": "audio/wav"])
        #expect(late.status == 409)

        // Cancelled while a worker holds it: the worker is told to stop.
        let doomed = try await k.generate(me.token, ["prompt": "folk", "duration_s": 5])
        let doomedLease = try #require(try await lease(wait: 5))
        #expect(try await k.request("POST", "/api/generations/\(doomed["id"].string!)/cancel", token: me.token).json["status"] == "cancelled")
        let beat = try await k.request("POST", "/api/worker/heartbeat", token: worker, json: ["worker_id": "flaky", "job_ids": [doomed["id"]]])
        #expect(beat.json["stop"] == [doomed["id"]])
        let report = try await k.request("POST", "/api/worker/jobs/\(doomed["id"].string!)/progress", token: worker,
                                         json: ["worker_id": "flaky", "lease_id": doomedLease["lease_id"], "progress": 0.2])
        #expect(report.status == 409 && report.json["code"] == "job_cancelled")
    }

    @Test func anEngineFailureInABuiltInWorkerIsRetriedThenFails() async throws {
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID()).sf2")
        try Data("this is not a soundfont".utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        let k = try await TestKernel.start([.generation(["builtin_workers": 1, "retry_base_ms": 100, "soundfont": .string(broken.path)])])
        defer { k.stop() }
        let me = try await k.register("broken")
        let job = try await k.generate(me.token, ["prompt": "pop", "duration_s": 5])
        let failed = try await k.job(job["id"].string!, me.token, until: ["failed"], timeout: .seconds(30))
        #expect(failed["attempts"] == 3)
        #expect(failed["error"].string?.contains("soundfont") == true, "\(failed["error"])")
    }

    @Test func otherUsersSeeNothingAndBadInputNamesTheField() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 0])])
        defer { k.stop() }
        let me = try await k.register("owner")
        let other = try await k.register("snoop")
        let admin = try await k.adminToken()
        let job = try await k.generate(me.token, ["prompt": "a secret song", "duration_s": 5])
        let id = job["id"].string!
        for (method, path) in [("GET", "/api/generations/\(id)"), ("POST", "/api/generations/\(id)/cancel"), ("GET", "/api/generations/\(id)/audio")] {
            let r = try await k.request(method, path, token: other.token)
            #expect(r.status == 404 && r.json["code"] == "generation_not_found", "\(method) \(path): \(r)")
        }
        #expect(try await k.request("GET", "/api/generations", token: other.token).json["items"] == [])
        #expect(try await k.request("GET", "/api/generations/\(id)", token: admin).json["user_id"] == .string(me.id))
        #expect(try await k.request("GET", "/api/generations/\(id)").status == 401)
        #expect(try await k.request("POST", "/api/worker/jobs/next", token: me.token, json: ["worker_id": "me"]).status == 403)
        let early = try await k.request("GET", "/api/generations/\(id)/audio", token: me.token)
        #expect(early.status == 409 && early.json["code"] == "not_ready")

        let bad: [(JSONValue, String)] = [
            (["duration_s": 5], "prompt"), (["prompt": "", "duration_s": 5], "prompt"), (["prompt": "x", "duration_s": 300], "duration_s"),
            (["prompt": "x", "quality": "best"], "quality"), (["prompt": "x", "tempo_bpm": 10], "tempo_bpm"), (["prompt": "x", "key": "H major"], "key"),
            (["prompt": "x", "genre": "polka"], "genre"), (["prompt": "x", "mood": "sleepy"], "mood"), (["prompt": "x", "seed": -1], "seed"),
            (["prompt": "x", "duration_s": "long"], "duration_s"),
        ]
        for (body, field) in bad {
            let r = try await k.request("POST", "/api/generations", token: me.token, json: body)
            #expect(r.status == 422 && r.json["detail"].string?.hasPrefix(field) == true, "\(body) → \(r)")
        }
        #expect(try await k.request("POST", "/api/generations", token: me.token, body: Array("{not json".utf8)).status == 400)
        #expect(try await k.request("GET", "/api/generations?status=done", token: me.token).status == 422)
        #expect(try await k.request("GET", "/api/generations?limit=0", token: me.token).status == 422)
        #expect(try await k.request("GET", "/api/generations?cursor=zzz", token: me.token).status == 422)

        // Newest first, paged; cancelled once, then 409.
        for n in 1...2 { _ = try await k.generate(me.token, ["prompt": .string("song \(n)"), "duration_s": 5]) }
        let first = try await k.request("GET", "/api/generations?limit=2", token: me.token).json
        #expect(first["items"].array?.map { $0["prompt"] } == ["song 2", "song 1"])
        let cursor = try #require(first["next_cursor"].string)
        let second = try await k.request("GET", "/api/generations?limit=2&cursor=\(cursor)", token: me.token).json
        #expect(second["items"].array?.map { $0["id"] } == [job["id"]] && second["next_cursor"] == .null)
        let cancelled = try await k.request("POST", "/api/generations/\(id)/cancel", token: me.token)
        #expect(cancelled.status == 200 && cancelled.json["status"] == "cancelled")
        #expect(try await k.request("POST", "/api/generations/\(id)/cancel", token: me.token).json["code"] == "not_cancellable")
        #expect(try await k.request("GET", "/api/generations?status=cancelled", token: me.token).json["items"].array?.count == 1)
        #expect(try await k.eventCounts("generation.cancelled")[id] == 1)
    }

    @Test func aHookVetoBecomesTheResponseAndAHookCanSetThePriority() async throws {
        let k = try await TestKernel.start([.hello, .faulty(), .generation(["builtin_workers": 0])])
        defer { k.stop() }
        let admin = try await k.adminToken()
        let worker = try await k.apiToken(role: "worker", admin: admin)
        let me = try await k.register("hooked")
        let vetoed = try await k.request("POST", "/api/generations", token: me.token, json: ["prompt": "a forbidden song"])
        #expect(vetoed.status == 429 && vetoed.json["code"] == "daily_limit_reached" && vetoed.headers["retry-after"] == "60")
        #expect(try await k.request("GET", "/api/generations", token: me.token).json["items"] == [], "nothing was stored")
        #expect(try await k.eventCounts("generation.queued").isEmpty)

        let ordinary = try await k.generate(me.token, ["prompt": "an ordinary song"])
        let urgent = try await k.generate(me.token, ["prompt": "an urgent song"])
        #expect(ordinary["priority"] == 0 && urgent["priority"] == 50)
        let first = try await k.request("POST", "/api/worker/jobs/next", token: worker, json: ["worker_id": "w"])
        #expect(first.json["id"] == urgent["id"], "the higher priority is leased first, though newer")
    }
}

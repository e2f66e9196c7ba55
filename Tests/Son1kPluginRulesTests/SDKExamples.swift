import Foundation
import Son1kContracts
import Son1kPluginKit
import Synchronization

// The examples of Son1kPluginKit's documentation, compiled. `SDKExampleTests` checks that
// every example in the SDK's doc comments appears verbatim here or in a plugin's own code
// (line by line, indentation aside), so an example that stops compiling fails the build.

struct Played: Codable, Sendable { var songId: String; var seconds: Double }
extension Topic where Payload == Played { static let played = Topic("plays.song_played") }

struct PlayCount: Codable, Sendable { var songId: String }
struct Plays: Codable, Sendable { var plays: Int }
extension Service where Input == PlayCount, Output == Plays { static let playCount = Service("plays.count") }

struct Counted: Codable, Sendable { var songId: String }
extension Topic where Payload == Counted { static let counted = Topic("plays.counted") }

enum SDKExamples {
    struct HelloConfig: PluginConfig {
        var greeting = "Hello"
    }

    struct SealingConfig: PluginConfig {
        var encryptionKey = ""
    }

    static func count(_ songID: String, _ ctx: Context<NoConfig>) throws -> Int { 0 }

    /// A plugin that both offers and uses a service, and publishes and consumes a topic.
    struct TopicsAndServices {
        func wire(_ r: inout Registry<NoConfig>, _ ctx: Context<NoConfig>, id: String, user: String, tx: Database) throws {
            try ctx.publishAction(.played, Played(songId: id, seconds: 31.5), userID: user, in: tx)
            r.onAction(Topic.played) { event, ctx in ctx.log.info("\(event.payload.songId) played") }
            r.service(.playCount) { input, ctx in Plays(plays: try count(input.songId, ctx)) }   // the provider
            let plays = try ctx.call(.playCount, PlayCount(songId: id))                          // a caller
            _ = plays
            let names = try ctx.call(.userProfiles, UserProfilesRequest(userIds: ["u1"])).profiles.mapValues(\.username)
            _ = names
        }
    }

    struct Routes {
        typealias Config = HelloConfig

        func register(_ r: inout Registry<Config>) {
            r.get("/api/hello/{name}", auth: .public, summary: "Greet someone") { req, ctx in
                try .json(["message": "\(ctx.config.greeting), \(req.param("name"))"])
            }
            r.onAction(Topic.generationCompleted) { event, ctx in /* event.payload is typed */ }
        }

        struct CreateGreeting: Codable { var name: String }
        struct Greeting: Codable { var id: Int; var message: String }

        func typed(_ r: inout Registry<Config>) {
            r.post("/api/hello/greetings", auth: .user, summary: "Record a greeting",
                   body: CreateGreeting.self, returns: Greeting.self, status: 201) { req, input, ctx in
                Greeting(id: 1, message: "Hello, \(input.name)!")
            }
            r.delete("/api/hello/greetings/{id}", auth: .user, summary: "Forget a greeting", returns: NoContent.self) { req, ctx in
                NoContent()
            }
        }

        struct Quota: Codable, Sendable { var remaining: Int }

        func reply(_ r: inout Registry<Config>, quota: Quota) {
            r.get("/api/quota", auth: .user, summary: "My quota", returns: Quota.self) { req, ctx in
                Reply(quota, headers: [("RateLimit-Remaining", String(quota.remaining))])
            }
        }

        func untyped(_ r: inout Registry<Config>) {
            r.post("/api/hello/wave", auth: .user, summary: "Wave, or say why not") { req, ctx in
                guard req.query("quiet") == nil else { return .noContent }
                return try .json(["message": "Hello"], status: 201)
            }
            r.post("/api/countdown", auth: .user, summary: "Count down, one line a second", stream: true) { req, ctx in
                let out = try req.startStream(headers: [("Content-Type", "application/x-ndjson")])
                for n in (1...3).reversed() { try out.write(json: ["n": .number(Double(n))]) }
                return .streamed
            }
        }
    }

    enum Configuration {
        struct Config: PluginConfig {
            var greeting = "Hello"
            var maxPerHour = 10
            var apiKey = ""
            static let constraints: [ConfigConstraint] = [.range("max_per_hour", 1...1000), .secret("api_key")]
        }

        struct NewGreeting: Codable, SchemaRules {
            var name: String
            static let schemaRules: [FieldRule] = [.length("name", 1...100), .describe("name", "Who to greet.")]
        }
    }

    static func values(_ ctx: Context<NoConfig>, id: String) throws {
        let count = try ctx.db.query("SELECT plays FROM plays_counts WHERE song_id = ?", [.text(id)]).first?["plays"].int ?? 0
        _ = count
        struct Job: Codable { var userID: String; var attempts: Int; var createdAt: Date }
        let job = try JSONValueDecoder.decode(Job.self, from: ["user_id": "usr_1", "attempts": 2,
                                                                "created_at": "2026-11-22T09:30:00.250Z"])
        _ = job
        struct Song: Codable {
            enum Quality: String, Codable, CaseIterable { case standard, high }
            var title: String
            var quality: Quality
            var durationS: Double?
        }
        let schema = JSONSchema.of(Song.self, for: .response)
        // {"type": "object", "additionalProperties": false, "required": ["title", "quality"],
        //  "properties": {"title": {"type": "string"}, "quality": {"type": "string", "enum": ["standard", "high"]},
        //                 "duration_s": {"type": ["number", "null"]}}}
        _ = schema
    }

    static func errors(remaining: Int) throws {
        guard remaining > 0 else {
            throw PluginError(status: 429, code: "daily_limit_reached", detail: "3 of 3 songs used today.")
        }
    }

    static func acting(_ req: Request) throws -> String {
        let principal = try req.requirePrincipal()
        let owner = try principal.acting(as: req.json["user_id"].string)
        return owner
    }

    static func media(_ ctx: Context<NoConfig>, blobID: String) throws -> String? {
        let audioURL = try ctx.blobs.url(blobID)
        return audioURL
    }

    static func transactions(_ ctx: Context<NoConfig>, id: String) throws {
        try ctx.db.transaction { tx in
            try tx.exec("INSERT INTO plays_counts VALUES (?, 1)", [.text(id)])
            try ctx.publishAction(.counted, Counted(songId: id), in: tx)
        }
    }

    static func dialects(_ ctx: Context<NoConfig>) throws -> String {
        let field = ctx.db.dialect == .postgres ? "data::jsonb->>'title'" : "json_extract(data, '$.title')"
        return field
    }

    static func cryptography(_ ctx: Context<SealingConfig>, credential: String, accountID: String, secret: String, timestamp: Int,
                             body: [UInt8], expected: String) throws {
        let key = Crypto.sha256(Array(ctx.config.encryptionKey.utf8))
        let sealed = Crypto.seal(Array(credential.utf8), key: key, associatedData: Array(accountID.utf8))
        let opened = try Crypto.open(sealed, key: key, associatedData: Array(accountID.utf8))
        _ = opened
        let signature = Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body))
        let matches = Crypto.constantTimeEquals(Array(signature.utf8), Array(expected.utf8))
        _ = matches
    }
}

/// The job queue's examples (JobArgs, JobQueue, Job, Registry+Jobs).
enum JobExamples {
    struct RenderJob: JobArgs {
        static let kind = "render"
        var songID: String
    }

    static func render(_ part: Int, of songID: String) throws {}

    static func enqueue(_ ctx: Context<NoConfig>, id: String, user: String) throws {
        try ctx.db.transaction { tx in
            try tx.exec("INSERT INTO songs_requests (id) VALUES (?)", [.text(id)])
            try ctx.jobs.enqueue(RenderJob(songID: id), options: .init(ownerID: user), in: tx)
        }
    }

    static func worker(_ r: inout Registry<NoConfig>) {
        r.worker(RenderJob.self, concurrency: 2) { job, ctx in
            for part in 1...10 {
                try render(part, of: job.args.songID)
                try job.progress(Double(part) / 10)   // throws once the job is cancelled
            }
        }
    }

    static func simplest(_ r: inout Registry<NoConfig>) {
        r.worker(RenderJob.self, concurrency: 2) { job, ctx in
            try job.progress(0.5)
        }
    }
}

/// `Plugin.drain()`'s example: a plugin with a background loop of its own.
struct DrainingExample: Plugin {
    struct Poller: Sendable { func stop() {} }
    final class Runtime: Sendable { let poller = Mutex<Poller?>(nil) }

    static let manifest = Manifest(name: "draining", version: "1.0.0")
    let runtime = Runtime()

    func register(_ r: inout Registry<NoConfig>) {}

    public func drain() {
        runtime.poller.withLock { $0 }?.stop()
    }
}

/// `UTCCalendar`'s example.
enum CalendarExamples {
    static func nextMonth() -> Int64 {
        let firstOfNextMonth = UTCCalendar.days(fromCivil: 2026, 12, 1)
        return firstOfNextMonth
    }
}

import Foundation
import Son1kContracts
import Son1kPluginKit

/// A plugin that misbehaves on request, for the kernel's failure tests: its init can throw,
/// a route always throws, its hooks veto or rewrite greetings and generations, and its
/// action handler can be told to fail so deliveries stay pending.
struct FaultyPlugin: Plugin {
    static let manifest = Manifest(name: "faulty", version: "0.1.0", description: "Fails on purpose (tests only).", requires: ["hello"])

    struct Config: PluginConfig {
        var failInit = false
        var failActions = false
        var mode = "normal"
        static let constraints: [ConfigConstraint] = [.oneOf("mode", ["normal", "strict"])]
    }

    struct Failure: Error {}

    static let migrations: [Migration] = [
        .init(1, "CREATE TABLE faulty_received (event_id TEXT PRIMARY KEY, topic TEXT NOT NULL, name TEXT)"),
    ]

    func setUp(_ ctx: Context<Config>) throws {
        if ctx.config.failInit { throw PluginError(status: 500, code: "init_failed", detail: "configured to fail at init") }
    }

    func register(_ r: inout Registry<Config>) {
        r.get("/api/faulty/throw", auth: .public, summary: "Always throws") { _, _ in throw Failure() }

        // Stands in for plugins not written yet (billing): publishes any action an admin asks for.
        r.post("/api/faulty/publish", auth: .admin, summary: "Publish an action {topic, data, user_id}") { req, ctx in
            let body = try req.json
            // A payload of any shape, which is what JSONValue as the topic's type says.
            let id = try ctx.publishAction(Topic<JSONValue>(body["topic"].string ?? ""), body["data"], userID: body["user_id"].string)
            return try .json(["id": .string(id)] as JSONValue)
        }

        // Calls any plugin's service as another plugin would (`ctx.call`), for tests of services.
        r.post("/api/faulty/call", auth: .admin, summary: "Call a service {service, input}") { req, ctx in
            let body = try req.json
            return try .json(try ctx.call(Service<JSONValue, JSONValue>(body["service"].string ?? ""), body["input"]))
        }

        // A slow producer streaming numbered lines (100 a second, `?lines=` of them, 3000 by
        // default): records how far it got when the client went away, so tests can see that a
        // streaming handler learns of it and stops, and that a shutdown lets it finish.
        r.post("/api/faulty/stream", auth: .public, summary: "Stream numbered lines until the client leaves", stream: true) { req, ctx in
            let lines = req.query("lines").flatMap { Int($0) } ?? 3000
            let out = try req.startStream(headers: [("Content-Type", "application/x-ndjson")])
            for n in 0..<lines {
                do {
                    try out.write(json: ["n": .number(Double(n))])
                } catch let error as PluginError where error.code == "client_gone" {
                    try ctx.db.exec("INSERT INTO faulty_received (event_id, topic, name) VALUES (?, 'stream.client_gone', ?)",
                                    [.text(req.requestID), .text(String(n))])
                    return .streamed
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return .streamed
        }

        // A statement only one dialect understands, picked by `ctx.db.dialect`: the answer
        // shows both that the dialect is right and that the branch reached the engine.
        r.get("/api/faulty/dialect", auth: .public, summary: "The database's dialect and engine version") { _, ctx in
            let dialect = ctx.db.dialect
            let sql = dialect == .postgres ? "SELECT current_setting('server_version') AS version" : "SELECT sqlite_version() AS version"
            let version = try ctx.db.query(sql).first?["version"] ?? nil
            return try .json(["dialect": .string(dialect.rawValue), "version": version] as JSONValue)
        }

        r.get("/api/faulty/received", auth: .public, summary: "Actions received") { _, ctx in
            try .json(["items": .array(try ctx.db.query("SELECT event_id, topic, name FROM faulty_received ORDER BY event_id"))] as JSONValue)
        }

        // Stands in for a plugin that meters lyrics per tier: vetoes prompts that ask for it.
        r.onHook(.lyricsBeforeGenerate) { event, _ in
            if event.payload.prompt.contains("over my quota") {
                throw PluginError(status: 402, code: "lyrics_not_in_tier", detail: "Lyrics are not part of your tier.")
            }
            return .continue
        }

        r.onHook(.helloBeforeGreet) { event, ctx in
            if event.payload.name == "forbidden" {
                throw PluginError(status: 403, code: "name_forbidden", detail: "That name may not be greeted.")
            }
            if event.payload.name == "shout" { return .replace(GreetingDraft(id: event.payload.id, name: "SHOUT")) }
            return .continue
        }

        // Stands in for a quota plugin: vetoes some generations, prioritises others.
        r.onHook(.generationBeforeCreate) { event, _ in
            if event.payload.prompt.contains("forbidden") {
                throw PluginError(status: 429, code: "daily_limit_reached", detail: "No more songs today.", headers: ["Retry-After": "60"])
            }
            guard event.payload.prompt.contains("urgent") else { return .continue }
            var job = event.payload
            job.priority = 50
            return .replace(job)
        }

        r.onAction(.helloGreeted) { event, ctx in
            if ctx.config.failActions { throw Failure() }
            try ctx.db.exec("INSERT INTO faulty_received (event_id, topic, name) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                            [.text(event.id), .text(event.topic), .text(event.payload.name)])
        }
    }
}

@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(FaultyPlugin.self) }

import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func generation(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "generation", library: "Son1kGeneration", config: config)
    }
}

extension TestKernel {
    /// Submit a generation; expects 202 and returns the job.
    func generate(_ token: String, _ body: JSONValue) async throws -> JSONValue {
        let r = try await request("POST", "/api/generations", token: token, json: body)
        guard r.status == 202, r.json["id"].string != nil else { throw TestFailure("submit failed: \(r)") }
        return r.json
    }

    /// Poll a job until its status is one of `statuses`.
    func job(_ id: String, _ token: String, until statuses: Set<String>, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        try await poll("\(id) to become \(statuses.sorted().joined(separator: "|"))", timeout: timeout, every: .milliseconds(100)) { () -> JSONValue? in
            let r = try await request("GET", "/api/generations/\(id)", token: token)
            if let s = r.json["status"].string, ["failed", "timeout", "cancelled", "completed"].contains(s), !statuses.contains(s) {
                throw TestFailure("\(id) ended \(s) while waiting for \(statuses): \(r.json["error"])")
            }
            guard statuses.contains(r.json["status"].string ?? "") else { return nil }
            return r.json
        }
    }

    /// How many actions of `topic` were recorded for each generation id.
    func eventCounts(_ topic: String) async throws -> [String: Int] {
        let rows = try await rows("SELECT \(jsonField("data", "generation_id")) AS id, COUNT(*) AS n FROM kernel_events WHERE topic = ? GROUP BY 1", [.text(topic)])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"]?.string ?? "(none)", $0["n"]?.int ?? 0) })
    }

    /// Actions for `subscriber` not yet delivered (pending), read from the outbox.
    func undelivered(to subscriber: String) async throws -> Int {
        try await integer("SELECT COUNT(*) AS n FROM kernel_deliveries WHERE subscriber = ? AND status = 'pending'", [.text(subscriber)]) ?? 0
    }

    /// How many actions of `topic` were recorded per user.
    func eventCountsByUser(_ topic: String) async throws -> [String: Int] {
        let rows = try await rows("SELECT user_id, COUNT(*) AS n FROM kernel_events WHERE topic = ? GROUP BY user_id", [.text(topic)])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["user_id"]?.string ?? "(none)", $0["n"]?.int ?? 0) })
    }

    /// Start `son1k worker` against this server; kill it with `terminate()` or `kill`.
    func externalWorker(id: String, token: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(Self.buildDirectory)/son1k")
        p.arguments = ["worker", "--url", baseURL, "--token", token, "--id", id, "--wait", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}

extension PluginSpec {
    static func tiers(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "tiers", library: "Son1kTiers", config: config)
    }
}

extension TestKernel {
    /// `GET /api/tiers/limits/me`.
    func limits(_ token: String) async throws -> JSONValue {
        let r = try await request("GET", "/api/tiers/limits/me", token: token)
        guard r.status == 200 else { throw TestFailure("limits: \(r)") }
        return r.json
    }

    /// A fake clock the plugins read (SON1K_TEST_CLOCK_FILE); `set` moves it.
    static func clockFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("son1k-clock-\(UUID().uuidString)")
    }
}

func setClock(_ file: URL, _ iso: String) throws {
    try Data(iso.utf8).write(to: file)
}

/// Whether two byte arrays are equal, as a plain Bool with a short description: comparing
/// large arrays inside `#expect` makes a failure compute a full diff, which takes minutes.
func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> (equal: Bool, description: String) {
    if a == b { return (true, "\(a.count) identical bytes") }
    let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    return (false, "\(a.count) vs \(b.count) bytes, first difference at byte \(first)")
}

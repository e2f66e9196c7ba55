import CSon1kABI
import Foundation
import Son1kPluginKit
import Synchronization

/// Everything behind a test host's `ctx` pointer: the database, the clock, the stubs a test
/// installed and what the plugin did (events, logs, metrics, requests, blobs). Not generic,
/// so the C functions of ``TestHostFunctions`` can reach it from a bare pointer.
final class HostState: @unchecked Sendable {
    let plugin: String
    let database: MemoryDatabase
    let clock: TestClock
    let configJSON: JSONValue
    let secretFields: Set<String>
    let egressHosts: [String]

    /// The plugin's own hook subscribers and services, bound by ``TestHost`` once set up.
    struct OwnHandlers: Sendable {
        var deliver: @Sendable (Event, UInt64) throws -> HookOutcome
        var hasHook: @Sendable (String) -> Bool
        var answer: @Sendable (String, JSONValue) throws -> JSONValue
        var offers: @Sendable (String) -> Bool
    }
    let own = Mutex<OwnHandlers?>(nil)

    struct Stubs: Sendable {
        var services: [String: @Sendable (JSONValue) throws -> JSONValue] = [:]
        var hooks: [String: @Sendable (Event) throws -> HookOutcome] = [:]
        var http: (@Sendable (HTTPClient.Request) throws -> HTTPClient.Response)?
    }
    let stubs = Mutex(Stubs())

    struct Record: Sendable {
        var published: [PublishedEvent] = []
        /// Actions published inside a transaction, kept until it commits (dropped on rollback).
        var pending: [UInt64: [PublishedEvent]] = [:]
        var logs: [LogLine] = []
        var metrics: [RecordedMetric] = []
        var httpRequests: [HTTPClient.Request] = []
        var schedules: [Schedule] = []
        var jobs: [EnqueuedJob] = []
        var blobs: [String: (meta: JSONValue, bytes: [UInt8])] = [:]
        var streams: [UInt64: StreamedResponse] = [:]
        var nextID = 1
    }
    let record = Mutex(Record())

    struct StreamedResponse: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    init(plugin: String, database: MemoryDatabase, clock: TestClock, configJSON: JSONValue, secretFields: Set<String>) {
        self.plugin = plugin
        self.database = database
        self.clock = clock
        self.configJSON = configJSON
        self.secretFields = secretFields
        egressHosts = configJSON["egress_hosts"].array?.compactMap(\.string) ?? []
    }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ ctx: OpaquePointer?) -> HostState {
        Unmanaged<HostState>.fromOpaque(UnsafeRawPointer(ctx!)).takeUnretainedValue()
    }

    func newID(_ prefix: String) -> String {
        record.withLock { r in
            defer { r.nextID += 1 }
            return "\(prefix)_\(r.nextID)"
        }
    }

    // MARK: - What the host functions do

    func secret(_ name: String) throws -> [UInt8] {
        guard secretFields.contains(name), let value = configJSON[name].string else {
            throw PluginError(status: 404, code: "secret_not_found", detail: "No config field '\(name)' is declared secret.")
        }
        return Array(value.utf8)
    }

    func publish(txn: UInt64, kind: Int32, topic: String, payload: JSONValue) throws -> JSONValue {
        let kind: EventKind = Int(kind) == SON1K_EVENT_HOOK ? .hook : .action
        let event = PublishedEvent(id: newID("evt"), topic: topic, kind: kind, userID: payload["user_id"].string, data: payload["data"])
        guard kind == .hook else {
            if txn != 0, !database.isOpen(txn) { throw PluginError(status: 500, code: "transaction_closed", detail: "transaction \(txn) is not open") }
            record.withLock { r in
                if txn == 0 { r.published.append(event) } else { r.pending[txn, default: []].append(event) }
            }
            return ["id": .string(event.id)]
        }
        record.withLock { $0.published.append(event) }
        var data = event.data
        let envelope = { Event(id: event.id, topic: topic, kind: .hook, occurredAt: self.clock.now.iso8601, userID: event.userID, data: data) }
        // Other plugins' subscribers (stubbed by the test) run first, then the plugin's own.
        if let stub = stubs.withLock({ $0.hooks[topic] }), case .replace(let replaced) = try stub(envelope()) { data = replaced }
        if let own = own.withLock({ $0 }), own.hasHook(topic), case .replace(let replaced) = try own.deliver(envelope(), txn) { data = replaced }
        return ["data": data]
    }

    func committed(_ txn: UInt64) {
        record.withLock { r in r.published += r.pending.removeValue(forKey: txn) ?? [] }
    }

    func rolledBack(_ txn: UInt64) {
        _ = record.withLock { $0.pending.removeValue(forKey: txn) }
    }

    func call(_ service: String, input: JSONValue) throws -> JSONValue {
        if let stub = stubs.withLock({ $0.services[service] }) { return try stub(input) }
        if service == Service<BlobURLsRequest, BlobURLs>.blobURLs.name { return try mediaURLs(input) }
        if let own = own.withLock({ $0 }), own.offers(service) { return try own.answer(service, input) }
        throw PluginError(status: 404, code: "service_not_found",
                          detail: "No plugin offers '\(service)': stub it with TestHost.stub(_:) in the test.")
    }

    func fetch(_ spec: JSONValue, body: [UInt8]) throws -> HTTPClient.Response {
        let request = HTTPClient.Request(
            method: spec["method"].string ?? "GET", url: spec["url"].string ?? "",
            headers: (spec["headers"].object ?? [:]).compactMapValues(\.string), body: body,
            timeoutSeconds: spec["timeout_s"].double ?? 30, proxy: spec["proxy"].string)
        guard let url = URL(string: request.url), EgressHost.allows(url, entries: egressHosts) else {
            throw PluginError(status: 403, code: "egress_denied", detail: "\(URL(string: request.url)?.host ?? request.url) is not in the plugin's egress_hosts.")
        }
        record.withLock { $0.httpRequests.append(request) }
        guard let stub = stubs.withLock({ $0.http }) else {
            throw PluginError(status: 502, code: "egress_failed", detail: "No HTTP stub answers \(request.method) \(request.url): install one with TestHost.stubHTTP(_:).")
        }
        var response = try stub(request)
        response.headers = Dictionary(response.headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        return response
    }

    func putBlob(meta: JSONValue, bytes: [UInt8]) -> JSONValue {
        let id = newID("blob")
        let info: JSONValue = [
            "id": .string(id), "sha256": .string(Crypto.sha256Hex(bytes)), "size": .integer(Int64(bytes.count)),
            "content_type": .string(meta["content_type"].string ?? "application/octet-stream"),
        ]
        record.withLock { $0.blobs[id] = (info, bytes) }
        return info
    }

    /// `kernel.blobs.urls`, as the kernel answers it: a URL for each blob held, the others
    /// left out (unsigned here: nothing serves them).
    private func mediaURLs(_ input: JSONValue) throws -> JSONValue {
        let ids = try JSONValueDecoder.decode(BlobURLsRequest.self, from: input).blobIds
        let held = record.withLock { r in ids.filter { r.blobs[$0] != nil } }
        return try JSONValue.from(BlobURLs(urls: Dictionary(held.map { ($0, "/api/media/\($0)?expires=0&signature=test-host") }, uniquingKeysWith: { a, _ in a })))
    }

    func blob(_ id: String) throws -> (meta: JSONValue, bytes: [UInt8]) {
        guard let blob = record.withLock({ $0.blobs[id] }) else {
            throw PluginError(status: 404, code: "blob_not_found", detail: "No blob \(id).")
        }
        return blob
    }

    func deleteBlob(_ id: String) throws {
        guard record.withLock({ $0.blobs.removeValue(forKey: id) }) != nil else {
            throw PluginError(status: 404, code: "blob_not_found", detail: "No blob \(id).")
        }
    }

    /// The job queue is the kernel's (its leases, timeouts and crash recovery are what it is
    /// for), so jobs are recorded, not run: a plugin's workers are tested through their plain
    /// types, the queue itself end to end against a real kernel. Workers may register.
    func queue(_ op: String, _ request: JSONValue) throws -> JSONValue {
        switch op {
        case "run":
            return [:]
        case "enqueue":
            let queue = request["queue"].string ?? "default", key = request["unique_key"].string
            if let key, let earlier = record.withLock({ $0.jobs.first { $0.queue == queue && $0.uniqueKey == key } }) {
                var info = jobInfo(earlier)
                info["duplicate"] = true
                return info
            }
            return jobInfo(recordJob(request, args: request["args"]))
        case "enqueue_many":
            return ["ids": .array((request["args"].array ?? []).map { .string(recordJob(request, args: $0).id) })]
        default:
            throw PluginError(status: 501, code: "queue_unavailable",
                              detail: "The test host records enqueued jobs but runs no queue ('\(op)'): test the worker's rules directly, the queue against a kernel.")
        }
    }

    private func recordJob(_ request: JSONValue, args: JSONValue) -> EnqueuedJob {
        let job = EnqueuedJob(id: newID("job"), queue: request["queue"].string ?? "default", kind: request["kind"].string ?? "",
                              args: args, ownerID: request["owner_id"].string, uniqueKey: request["unique_key"].string)
        record.withLock { $0.jobs.append(job) }
        return job
    }

    private func jobInfo(_ job: EnqueuedJob) -> JSONValue {
        let now = JSONValue.string(clock.now.iso8601)
        return ["id": .string(job.id), "queue": .string(job.queue), "kind": .string(job.kind), "args": job.args,
                "owner_id": job.ownerID.map { .string($0) } ?? .null, "state": "queued", "priority": 0, "run_at": now,
                "attempt": 0, "max_attempts": 1, "postponements": 0, "unique_key": job.uniqueKey.map { .string($0) } ?? .null,
                "timeout_s": 0, "created_at": now, "updated_at": now]
    }

    func stream(_ handle: UInt64, head: JSONValue?, data: [UInt8]) -> son1k_status_t {
        record.withLock { r in
            if let head {
                guard r.streams[handle] == nil, let status = head["status"].int else { return Int32(SON1K_ERR_INVALID) }
                let headers = (head["headers"].object ?? [:]).compactMap { name, value in value.string.map { (name, $0) } }
                r.streams[handle] = StreamedResponse(status: status, headers: headers, body: [])
            }
            guard r.streams[handle] != nil else { return Int32(SON1K_ERR_INVALID) }
            r.streams[handle]!.body += data
            return Int32(SON1K_OK)
        }
    }
}

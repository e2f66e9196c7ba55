import Foundation
import Son1kMusicEngine
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The external worker protocol from the worker's side (see docs/API.md, "Workers").
struct WorkerClient: Sendable {
    let base: String
    let token: String
    let workerID: String
    let session: URLSession

    typealias Lease = JobLease

    struct HTTPError: Error, CustomStringConvertible {
        var status: Int
        var code: String
        var detail: String
        var description: String { "\(status) \(code): \(detail)" }
    }

    init(base: String, token: String, workerID: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token
        self.workerID = workerID
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 300
        session = URLSession(configuration: config)
    }

    /// Long-polls for a job; nil when none came within `wait`.
    func next(engines: [String], wait: Double) async throws -> Lease? {
        let (status, body) = try await send("POST", "/api/worker/jobs/next",
                                            json: ["worker_id": .string(workerID), "engines": .array(engines.map { .string($0) }), "wait_s": .number(wait)])
        if status == 204 { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Lease.self, from: Data(body))
    }

    /// Returns the ids among `holding` the server says to abandon, and how often to beat.
    func heartbeat(engines: [String], holding: [String]) async throws -> (stop: [String], interval: Double?) {
        let (_, body) = try await send("POST", "/api/worker/heartbeat", json: [
            "worker_id": .string(workerID), "engines": .array(engines.map { .string($0) }), "job_ids": .array(holding.map { .string($0) }),
        ])
        let answer = try JSONValue.parse(body)
        return ((answer["stop"].array ?? []).compactMap(\.string), answer["heartbeat_interval_s"].double)
    }

    func progress(_ lease: Lease, _ fraction: Double) async throws {
        _ = try await send("POST", "/api/worker/jobs/\(lease.id)/progress", json: [
            "worker_id": .string(workerID), "lease_id": .string(lease.leaseId), "progress": .number(fraction),
        ])
    }

    func complete(_ lease: Lease, _ output: EngineOutput) async throws {
        let query = "worker_id=\(workerID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? workerID)&lease_id=\(lease.leaseId)"
        _ = try await send("POST", "/api/worker/jobs/\(lease.id)/complete?\(query)", body: output.audio, headers: [
            "Content-Type": output.contentType, "Son1k-Details": Data(output.details.bytes).base64EncodedString(),
        ])
    }

    func fail(_ lease: Lease, error: String, retryable: Bool) async throws {
        _ = try await send("POST", "/api/worker/jobs/\(lease.id)/fail", json: [
            "worker_id": .string(workerID), "lease_id": .string(lease.leaseId), "error": .string(error), "retryable": .bool(retryable),
        ])
    }

    private func send(_ method: String, _ path: String, json: JSONValue? = nil, body: [UInt8]? = nil,
                      headers: [String: String] = [:]) async throws -> (Int, [UInt8]) {
        guard let url = URL(string: base + path) else { throw HTTPError(status: 0, code: "bad_url", detail: base + path) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = Data(json.bytes)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { request.httpBody = Data(body) }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let problem = try? JSONValue.parse(Array(data))
            throw HTTPError(status: status, code: problem?["code"].string ?? "http_\(status)", detail: problem?["detail"].string ?? "")
        }
        return (status, Array(data))
    }
}

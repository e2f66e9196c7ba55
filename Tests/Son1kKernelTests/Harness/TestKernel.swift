import Foundation
import Son1kPluginKit
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plugin entry for a test deployment's plugins.json.
struct PluginSpec {
    var name: String
    var library: String
    var enabled = true
    var config: JSONValue = [:]

    static let hello = PluginSpec(name: "hello", library: "Son1kHello")
    static let cplugin = PluginSpec(name: "cplugin", library: "Son1kTestCPlugin", config: ["egress_hosts": ["127.0.0.1"], "api_key": "c-secret"])
    static func faulty(_ config: JSONValue = [:], enabled: Bool = true) -> PluginSpec {
        PluginSpec(name: "faulty", library: "Son1kTestFaulty", enabled: enabled, config: config)
    }
}

/// The shared harness: a real `son1k serve` process on 127.0.0.1 (a free port chosen by
/// the system) with its own temporary data directory and plugins.json, talked to over
/// real HTTP. Every end-to-end test uses it.
final class TestKernel: @unchecked Sendable {
    static let adminEmail = "admin@test.local"
    static let adminPassword = "admin-password-1"

    /// Where `swift build` put the binary and the plugin libraries.
    static let buildDirectory: String = {
        if let dir = ProcessInfo.processInfo.environment["SON1K_BUILD_DIR"] { return dir }
        return repositoryRoot.appendingPathComponent(".build/debug").path
    }()

    /// The checkout these tests belong to.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    let directory: URL
    let configPath: String
    let environment: [String: String]
    /// The database this deployment runs on (``Backend/current`` unless a test chose).
    let backend: Backend
    private var kernelBlock: JSONValue = [:]
    private(set) var process: Process?
    private(set) var baseURL = ""
    private let output = Mutex("")

    /// Write plugins.json and start the kernel; returns once it listens.
    static func start(_ plugins: [PluginSpec], kernel: JSONValue = [:], environment: [String: String] = [:],
                      backend: Backend = .current) async throws -> TestKernel {
        var environment = environment
        if environment["DATABASE_URL"] == nil {
            // Created on a thread of its own: the first one starts the PostgreSQL cluster.
            environment["DATABASE_URL"] = try await onThread { try backend.freshDatabaseURL() }
        }
        let k = try TestKernel(plugins: plugins, kernel: kernel, environment: environment, backend: backend)
        try await k.launch()
        return k
    }

    /// A deployment on `backend`: a new, empty database of its own unless `environment` names
    /// one in `DATABASE_URL` (a restart on the same data, a test of a bad URL).
    init(plugins: [PluginSpec], kernel: JSONValue = [:], environment: [String: String] = [:], backend: Backend = .current) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("plugins.json").path
        var environment = environment
        if environment["DATABASE_URL"] == nil { environment["DATABASE_URL"] = try backend.freshDatabaseURL() }
        self.environment = environment
        self.backend = backend
        var kernelBlock: JSONValue = [
            "listen": "127.0.0.1:0", "data_dir": .string(directory.appendingPathComponent("data").path),
            "bcrypt_cost": 4, "events": ["max_attempts": 5, "retry_base_ms": 50],
        ]
        for (k, v) in kernel.object ?? [:] { kernelBlock[k] = v }
        self.kernelBlock = kernelBlock
        try reconfigure(plugins)
    }

    /// Rewrite plugins.json with other plugins (same kernel block); takes effect at the next launch.
    func reconfigure(_ plugins: [PluginSpec]) throws {
        let manifest: JSONValue = [
            "kernel": kernelBlock,
            "plugins": .array(plugins.map { ["name": .string($0.name), "library": .string($0.library), "enabled": .bool($0.enabled), "config": $0.config] }),
        ]
        try manifest.encoded().write(to: URL(fileURLWithPath: configPath))
    }

    var processEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["SON1K_LISTEN", "SON1K_DATA_DIR", "DATABASE_URL", "SON1K_CONFIG", "SON1K_JWT_SECRET", "SON1K_PLUGIN_PATH"] { env[key] = nil }
        env["SON1K_ADMIN_EMAIL"] = Self.adminEmail
        env["SON1K_ADMIN_PASSWORD"] = Self.adminPassword
        for (k, v) in environment { env[k] = v }
        return env
    }

    /// Start (or restart, on the same data directory) and wait until it listens.
    func launch(timeout: Duration? = nil) async throws {
        let timeout = timeout ?? .seconds(30 * backend.patience)
        output.withLock { $0 = "" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(Self.buildDirectory)/son1k")
        p.arguments = ["serve", "--config", configPath]
        p.environment = processEnvironment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if !data.isEmpty { self?.output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        try p.run()
        process = p
        let url = try await poll("the kernel to listen", timeout: timeout) { () -> String? in
            if !p.isRunning { throw TestFailure("son1k exited with \(p.terminationStatus):\n\(self.log)") }
            guard let line = self.log.split(separator: "\n").first(where: { $0.contains("son1k listening on ") }) else { return nil }
            return line.components(separatedBy: "son1k listening on ")[1].components(separatedBy: " ")[0]
        }
        baseURL = url
    }

    /// Everything the process printed so far.
    var log: String { output.withLock { $0 } }

    /// SIGKILL: no shutdown code runs.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// SIGTERM, then wait up to `timeout` for the process to exit; returns its exit status
    /// and how long it took. The data directory stays (for a restart or a look inside).
    func terminate(timeout: Duration) async throws -> (status: Int32, exited: Bool, seconds: Double) {
        let start = ContinuousClock.now
        try send(SIGTERM)
        let end = try await waitForExit(timeout: timeout)
        return (end.status, end.exited, (end.at - start).inSeconds)
    }

    /// Send a signal to the running process.
    func send(_ signo: Int32) throws {
        guard let p = process, p.isRunning else { throw TestFailure("son1k is not running") }
        Foundation.kill(p.processIdentifier, signo)
    }

    /// Wait up to `timeout` for the process to exit: its status, whether it exited (rather
    /// than died of a signal), and when it ended.
    func waitForExit(timeout: Duration) async throws -> (status: Int32, exited: Bool, at: ContinuousClock.Instant) {
        guard let p = process else { throw TestFailure("son1k was not started") }
        let pid = p.processIdentifier
        let at = try await poll("son1k to exit", timeout: timeout, every: .milliseconds(10)) { Self.hasEnded(pid) ? ContinuousClock.now : nil }
        p.waitUntilExit()
        return (p.terminationStatus, p.terminationReason == .exit, at)
    }

    /// Whether a child has ended, read from /proc. Foundation's `isRunning` is updated by its
    /// own monitoring thread, which lags by seconds while many tests run processes at once, so
    /// timing an exit by it measures the test process, not son1k.
    static func hasEnded(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        // `pid (name) state …`: a zombie (Z) has exited and waits to be reaped.
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state == "Z" || state == "X"
    }

    /// SIGTERM, then remove the data directory once the process exited. The wait happens on
    /// a thread of its own: `stop()` runs in tests' `defer`, on Swift's cooperative pool, whose
    /// two threads the WebSocket clients of other tests need while a shutdown takes seconds.
    func stop() {
        let directory = directory
        guard let p = process, p.isRunning else {
            try? FileManager.default.removeItem(at: directory)
            return
        }
        p.terminate()
        Thread {
            p.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }.start()
    }

    deinit {
        if let p = process, p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    }

    // MARK: HTTP

    func request(_ method: String, _ path: String, token: String? = nil, json: JSONValue? = nil, body: [UInt8]? = nil,
                 headers: [String: String] = [:], followRedirects: Bool = true) async throws -> TestResponse {
        try await Self.request(method, baseURL + path, token: token, json: json, body: body, headers: headers, followRedirects: followRedirects)
    }

    /// A request to any URL (where a redirect led).
    static func request(_ method: String, _ url: String, token: String? = nil, json: JSONValue? = nil, body: [UInt8]? = nil,
                        headers: [String: String] = [:], followRedirects: Bool = true) async throws -> TestResponse {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = method
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            req.httpBody = json.encoded()
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { req.httpBody = Data(body) }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await (followRedirects ? RedirectsFollowed.session : RedirectsFollowed.refusing).data(for: req)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return TestResponse(status: http.statusCode, headers: fields, body: Array(data))
    }

    // MARK: Identities

    func adminToken() async throws -> String {
        let r = try await request("POST", "/api/auth/login", json: ["email": .string(Self.adminEmail), "password": .string(Self.adminPassword)])
        guard r.status == 200, let token = r.json["token"].string else { throw TestFailure("admin login failed: \(r)") }
        return token
    }

    /// Register a fresh user; returns its id and JWT.
    func register(_ username: String) async throws -> (id: String, token: String) {
        let r = try await request("POST", "/api/auth/register", json: [
            "email": .string("\(username)@test.local"), "username": .string(username), "password": "password-123",
        ])
        guard r.status == 201, let id = r.json["user"]["id"].string, let token = r.json["token"].string else { throw TestFailure("register failed: \(r)") }
        return (id, token)
    }

    func apiToken(role: String, admin: String) async throws -> String {
        let r = try await request("POST", "/api/admin/tokens", token: admin, json: ["name": "test", "role": .string(role)])
        guard r.status == 201, let token = r.json["token"].string else { throw TestFailure("token creation failed: \(r)") }
        return token
    }

    /// The entry of `GET /api/plugins` for one plugin.
    func plugin(_ name: String) async throws -> JSONValue {
        let r = try await request("GET", "/api/plugins")
        return r.json["plugins"].array?.first { $0["name"].string == name } ?? .null
    }

    // MARK: CLI

    /// Run `son1k ARGS --config <this deployment>` to completion, waiting on a thread of its
    /// own (not on Swift's cooperative pool).
    func cli(_ args: [String]) async throws -> (status: Int32, output: String) {
        try await onThread { try self.runCLI(args) }
    }

    private func runCLI(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(Self.buildDirectory)/son1k")
        p.arguments = args + ["--config", configPath]
        p.environment = processEnvironment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Redirects as browsers, curl and Python's requests take them: followed, but without the
/// `Authorization` header when they lead to another origin (a presigned URL of the bucket
/// must not receive the caller's token, and S3 refuses a request that carries both).
final class RedirectsFollowed: NSObject, URLSessionTaskDelegate, Sendable {
    let follow: Bool
    static let session = URLSession(configuration: .ephemeral, delegate: RedirectsFollowed(follow: true), delegateQueue: nil)
    /// Hands a redirect back as it is, to see where it points.
    static let refusing = URLSession(configuration: .ephemeral, delegate: RedirectsFollowed(follow: false), delegateQueue: nil)

    init(follow: Bool) { self.follow = follow }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        guard follow else { return completionHandler(nil) }
        var next = request
        let from = response.url, to = request.url
        if from?.scheme != to?.scheme || from?.host != to?.host || from?.port != to?.port {
            next.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(next)
    }
}

struct TestResponse: CustomStringConvertible {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
    var description: String { "\(status) \(text.prefix(400))" }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Poll `check` until it returns a value or the deadline passes (no fixed sleeps). The last
/// check runs after the deadline: a test task that got no thread for a while (many suites on
/// two cores) still looks once more before it calls the wait a failure.
func poll<T>(_ what: String, timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
             _ check: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await check() { return value }
        if ContinuousClock.now >= deadline { break }
        try await Task.sleep(for: interval)
    }
    throw TestFailure("timed out after \(timeout) waiting for \(what)")
}

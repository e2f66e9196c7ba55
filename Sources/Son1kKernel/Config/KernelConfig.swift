import Foundation
import Son1kPluginKit

/// The `kernel` block of plugins.json, after `${ENV}` substitution and environment overrides.
public struct KernelSettings: Sendable {
    /// Host and port to listen on.
    public var host = "127.0.0.1"
    public var port = 8080
    /// Database, blobs and generated secrets live under it unless set separately.
    public var dataDirectory = "data"
    /// Empty for the embedded SQLite database at `<data_dir>/son1k.db`.
    public var databaseURL = ""
    public var blobDirectory = ""
    /// Blob contents in an S3-compatible bucket instead of under ``blobsPath`` (`kernel.blobs`).
    public var s3: S3Settings?
    /// Empty: generated once and kept in `<data_dir>/jwt_secret`.
    public var jwtSecret = ""
    public var pluginPath: [String] = []
    public var corsOrigins: [String] = []
    /// The address users reach this service at (`https://api.example.com`): signed media URLs
    /// are absolute under it. Empty: they are relative to the API.
    public var publicURL = ""
    /// How long a signed media URL works (`kernel.media.url_ttl_s`).
    public var mediaURLTTLSeconds = 3600
    public var maxBodyBytes = 16 * 1024 * 1024
    public var bcryptCost = 12
    public var tokenTTLSeconds = 24 * 3600
    /// A transaction still open after this long is rolled back.
    public var transactionTimeoutSeconds = 30.0
    /// Action delivery: tries before dead-lettering, and the first retry delay (doubles each try).
    public var eventMaxAttempts = 8
    public var eventRetryBaseMilliseconds = 1000
    /// How long an instance holds the deliveries it took before another may take them again
    /// (it died, or its subscriber is still busy): the redelivery delay after a crash.
    public var eventLeaseMilliseconds = 60_000
    /// How long a delivered action stays in the outbox (`kernel_events`) before it is pruned.
    public var eventRetentionSeconds = 7 * 24 * 3600
    /// Account mail (password reset, e-mail verification) through SMTP; nil: mail is off.
    public var mail: MailSettings?
    public var adminEmail = "admin@son1k.local"
    public var adminPassword = ""
    /// Login attempts allowed per account and per IP within `loginWindowSeconds`.
    public var loginMaxFailuresPerAccount = 5
    public var loginMaxFailuresPerIP = 20
    public var loginWindowSeconds = 900
    /// SIGTERM to exit: how long in-flight requests and due deliveries may take to finish.
    public var shutdownDrainSeconds = 10.0
    /// The job queue: how long finished jobs are kept before pruning, how often the reaper
    /// looks for timed-out attempts and silent workers, and the largest job arguments.
    public var jobRetentionSeconds = 7 * 24 * 3600
    public var jobMaintenanceIntervalMs = 500
    public var jobMaxArgsBytes = 64 * 1024

    public init() {}

    public var databasePath: String { databaseURL.isEmpty ? "\(dataDirectory)/son1k.db" : databaseURL }
    public var blobsPath: String { blobDirectory.isEmpty ? "\(dataDirectory)/blobs" : blobDirectory }
}

/// One entry of the `plugins` array.
public struct PluginEntry: Sendable {
    public var name: String
    /// A library name (`Son1kHello` → `libSon1kHello.so` on the search path) or a path to a `.so`.
    public var library: String
    public var enabled: Bool
    /// `in-process` (default). `process` is reserved for running a plugin in a child process.
    public var isolation: String
    public var config: JSONValue
}

/// A parsed plugins.json.
public struct KernelConfig: Sendable {
    public var settings: KernelSettings
    public var plugins: [PluginEntry]
    /// Where the manifest was read from (relative plugin paths resolve against its folder).
    public var sourcePath: String

    /// Errors in plugins.json itself; the kernel refuses to start on them.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Read and parse a plugins.json, substituting `${ENV}` values and applying the
    /// environment overrides (`SON1K_LISTEN`, `SON1K_DATA_DIR`, `DATABASE_URL`,
    /// `SON1K_PLUGIN_PATH`, `SON1K_JWT_SECRET`, `SON1K_CORS_ORIGINS` (comma-separated), `SON1K_PUBLIC_URL`, `SON1K_ADMIN_EMAIL`, `SON1K_ADMIN_PASSWORD`, and
    /// for an S3 blob store and for SMTP those ``S3Settings`` and ``MailSettings`` name).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read the plugin manifest at \(path) (set --config or SON1K_CONFIG)")
        }
        let raw: JSONValue
        do { raw = try JSONValue.parse(Array(data)) } catch {
            throw Invalid(description: "\(path) is not valid JSON: \(error)")
        }
        return try parse(EnvironmentSubstitution(environment: environment).apply(raw), path: path, environment: environment)
    }

    static func parse(_ json: JSONValue, path: String, environment: [String: String]) throws -> KernelConfig {
        var s = KernelSettings()
        let k = json["kernel"]
        if let listen = k["listen"].string, !listen.isEmpty { try s.setListen(listen) }
        if let v = k["data_dir"].string, !v.isEmpty { s.dataDirectory = v }
        if let v = k["database_url"].string { s.databaseURL = v }
        if let v = k["blob_dir"].string { s.blobDirectory = v }
        if let v = k["jwt_secret"].string { s.jwtSecret = v }
        if let v = k["plugin_path"].array { s.pluginPath = v.compactMap(\.string).filter { !$0.isEmpty } }
        if let v = k["plugin_path"].string, !v.isEmpty { s.pluginPath = v.split(separator: ":").map(String.init) }
        if let v = k["cors_origins"].array { s.corsOrigins = v.compactMap(\.string).filter { !$0.isEmpty } }
        if let v = k["public_url"].string { s.publicURL = v }
        if let v = k["media"]["url_ttl_s"].int {
            guard (1...(7 * 24 * 3600)).contains(v) else { throw Invalid(description: "kernel.media.url_ttl_s must be 1 to 604800 seconds, not \(v)") }
            s.mediaURLTTLSeconds = v
        }
        if let v = k["max_body_bytes"].int { s.maxBodyBytes = v }
        if let v = k["bcrypt_cost"].int { s.bcryptCost = min(max(v, 4), 31) }
        if let v = k["token_ttl_s"].int { s.tokenTTLSeconds = v }
        if let v = k["transaction_timeout_s"].double { s.transactionTimeoutSeconds = v }
        if let v = k["events"]["max_attempts"].int { s.eventMaxAttempts = max(1, v) }
        if let v = k["events"]["retry_base_ms"].int { s.eventRetryBaseMilliseconds = max(1, v) }
        if let v = k["events"]["retention_s"].int {
            guard v >= 0 else { throw Invalid(description: "kernel.events.retention_s must be 0 or more seconds, not \(v)") }
            s.eventRetentionSeconds = v
        }
        if let v = k["events"]["lease_ms"].int {
            guard (100...3_600_000).contains(v) else { throw Invalid(description: "kernel.events.lease_ms must be 100 to 3600000, not \(v)") }
            s.eventLeaseMilliseconds = v
        }
        if let v = k["login"]["max_failures_per_account"].int { s.loginMaxFailuresPerAccount = v }
        if let v = k["login"]["max_failures_per_ip"].int { s.loginMaxFailuresPerIP = v }
        if let v = k["login"]["window_s"].int { s.loginWindowSeconds = v }
        if let v = k["shutdown_drain_s"].double {
            guard v > 0, v <= 3600 else { throw Invalid(description: "kernel.shutdown_drain_s must be more than 0 and at most 3600 seconds, not \(v)") }
            s.shutdownDrainSeconds = v
        }
        if let v = k["jobs"]["retention_s"].int {
            guard v >= 0 else { throw Invalid(description: "kernel.jobs.retention_s must be 0 or more seconds, not \(v)") }
            s.jobRetentionSeconds = v
        }
        if let v = k["jobs"]["maintenance_interval_ms"].int {
            guard (10...60_000).contains(v) else { throw Invalid(description: "kernel.jobs.maintenance_interval_ms must be 10 to 60000, not \(v)") }
            s.jobMaintenanceIntervalMs = v
        }
        if let v = k["jobs"]["max_args_bytes"].int {
            guard (256...(16 << 20)).contains(v) else { throw Invalid(description: "kernel.jobs.max_args_bytes must be 256 to 16777216, not \(v)") }
            s.jobMaxArgsBytes = v
        }

        let env = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let v = env("SON1K_LISTEN") { try s.setListen(v) }
        if let v = env("SON1K_DATA_DIR") { s.dataDirectory = v }
        if let v = env("DATABASE_URL") { s.databaseURL = v }
        if let v = env("SON1K_JWT_SECRET") { s.jwtSecret = v }
        if let v = env("SON1K_ADMIN_EMAIL") { s.adminEmail = v }
        if let v = env("SON1K_ADMIN_PASSWORD") { s.adminPassword = v }
        if let v = env("SON1K_PUBLIC_URL") { s.publicURL = v }
        if !s.publicURL.isEmpty {
            guard let url = URL(string: s.publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.query == nil else {
                throw Invalid(description: "kernel.public_url (or SON1K_PUBLIC_URL) must be an http(s) address such as https://api.example.com, not \"\(s.publicURL)\"")
            }
        }
        if let v = env("SON1K_CORS_ORIGINS") {
            s.corsOrigins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let v = env("SON1K_PLUGIN_PATH") { s.pluginPath = v.split(separator: ":").map(String.init) + s.pluginPath }
        s.s3 = try S3Settings.parse(k["blobs"], environment: env)
        s.mail = try MailSettings.parse(k["mail"], publicURL: s.publicURL, environment: env)

        var entries: [PluginEntry] = []
        var seen = Set<String>()
        for (i, p) in (json["plugins"].array ?? []).enumerated() {
            guard let name = p["name"].string, !name.isEmpty else { throw Invalid(description: "plugins[\(i)]: \"name\" is required") }
            guard name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
                throw Invalid(description: "plugins[\(i)]: name \"\(name)\" must be lower-case letters, digits and _ (it prefixes the plugin's tables)")
            }
            guard seen.insert(name).inserted else { throw Invalid(description: "plugins[\(i)]: \"\(name)\" is listed twice") }
            let isolation = p["isolation"].string ?? "in-process"
            guard ["in-process", "process"].contains(isolation) else {
                throw Invalid(description: "plugins[\(i)] (\(name)): isolation must be \"in-process\" or \"process\"")
            }
            entries.append(PluginEntry(name: name, library: p["library"].string ?? name, enabled: p["enabled"].bool ?? true,
                                       isolation: isolation, config: p["config"].isNull ? [:] : p["config"]))
        }
        return KernelConfig(settings: s, plugins: entries, sourcePath: path)
    }
}

extension KernelSettings {
    mutating func setListen(_ value: String) throws {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port) else {
            throw KernelConfig.Invalid(description: "listen address \"\(value)\" must be host:port")
        }
        host = String(value[..<colon])
        self.port = port
    }
}

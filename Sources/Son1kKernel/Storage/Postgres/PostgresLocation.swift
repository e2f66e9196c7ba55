import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL database is, read from a `postgres://` URL:
///
/// ```
/// postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable&pool_max=16
/// ```
///
/// `sslmode` is `disable`, `prefer` (the default: TLS when the server offers it) or
/// `require`; `pool_max` caps the connections for transactions (default 16) and
/// `statement_pool_max` those for single statements (default 8); `connect_timeout` is how
/// many seconds opening one connection may take (default 10, as libpq spells it: a server
/// that forks a backend per connection answers slowly when hundreds arrive at once). User, password and
/// database are percent-decoded; the password never appears in an error or a log line.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    var password: String?
    public var database: String
    public var sslMode: String
    public var transactionConnections: Int
    public var statementConnections: Int
    public var connectTimeoutSeconds: Int64

    public var hostAndPort: String { "\(host):\(port)" }
    /// The URL without its password.
    public var description: String { "postgres://\(user)@\(hostAndPort)/\(database)" }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw Invalid(description: "DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = parts.host, !host.isEmpty else { throw Invalid(description: "DATABASE_URL names no host") }
        self.host = host
        port = parts.port ?? 5432
        user = parts.user?.removingPercentEncoding ?? "postgres"
        password = parts.password?.removingPercentEncoding
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        sslMode = query["sslmode"] ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw Invalid(description: "DATABASE_URL: sslmode must be disable, prefer or require, not \"\(sslMode)\"")
        }
        func count(_ name: String, _ fallback: Int) throws -> Int {
            guard let raw = query[name] else { return fallback }
            guard let n = Int(raw), (1...1000).contains(n) else { throw Invalid(description: "DATABASE_URL: \(name) must be 1 to 1000, not \"\(raw)\"") }
            return n
        }
        transactionConnections = try count("pool_max", 16)
        statementConnections = try count("statement_pool_max", 8)
        connectTimeoutSeconds = Int64(try count("connect_timeout", 10))
    }

    /// The TLS `sslmode` asks for: none, or a client configuration that may (`prefer`) or
    /// may not (`require`) fall back to plain text. The pool and the probe spell it in their
    /// own types.
    private var tls: (configuration: TLSConfiguration, required: Bool)? {
        sslMode == "disable" ? nil : (.makeClientConfiguration(), sslMode == "require")
    }

    func configuration(maximumConnections: Int) -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS = tls.map { $0.required ? .require($0.configuration) : .prefer($0.configuration) } ?? .disable
        var c = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
        c.options.maximumConnections = maximumConnections
        c.options.connectTimeout = .seconds(connectTimeoutSeconds)
        return c
    }

    /// Connect once and run `SELECT 1`, so a wrong address or password stops start-up with a
    /// clear sentence instead of a pool that retries in the background.
    func probe() throws {
        var mode = PostgresConnection.Configuration.TLS.disable
        if let tls {
            let context = try NIOSSLContext(configuration: tls.configuration)
            mode = tls.required ? .require(context) : .prefer(context)
        }
        var c = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
        c.options.connectTimeout = .seconds(connectTimeoutSeconds)
        let group = MultiThreadedEventLoopGroup.singleton
        do {
            let connection = try PostgresConnection.connect(on: group.next(), configuration: c, id: 0, logger: PostgresPool.logger).wait()
            defer { try? connection.close().wait() }
            _ = try connection.query("SELECT 1", logger: PostgresPool.logger).wait()
        } catch let error as PSQLError {
            var reason = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            if reason.isEmpty { reason = "\(error.code)" }
            throw Invalid(description: "cannot use PostgreSQL at \(hostAndPort) (database \(database), user \(user)): \(reason)")
        } catch {
            throw Invalid(description: "cannot reach PostgreSQL at \(hostAndPort): \(error)")
        }
    }
}

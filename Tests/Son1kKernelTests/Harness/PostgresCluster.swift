import Foundation
import Synchronization

/// A real PostgreSQL 15 server for the tests, started once per test process: `initdb` in a
/// temporary folder as a non-root user (`postgres`, which Debian's package creates, when the
/// tests run as root), `pg_ctl start` on a free port of 127.0.0.1, and `pg_ctl stop` when the
/// process exits. Each test takes a database of its own (``freshDatabase()``), so tests run in
/// parallel without seeing each other's rows.
///
/// Durability is set as the kernel's SQLite is (`synchronous_commit = off`: a commit survives
/// a crash of the server process, not of the machine) and `fsync` is off, since the cluster is
/// thrown away.
final class PostgresCluster: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    let directory: String
    let port: Int
    let user: String

    private static let started = Mutex<Result<PostgresCluster, TestFailure>?>(nil)

    /// The cluster of this test process, started on first use.
    static func shared() throws -> PostgresCluster {
        try started.withLock { started in
            if started == nil {
                do { started = .success(try PostgresCluster()) } catch let failure as TestFailure { started = .failure(failure) } catch {
                    started = .failure(TestFailure("\(error)"))
                }
                atexit { PostgresCluster.stopShared() }
            }
            return try started!.get()
        }
    }

    /// A cluster of the caller's own, for a test that must not share the server: one that
    /// stops and restarts it, or one timing what the server's busiest moments (other tests'
    /// `CREATE DATABASE`, long transactions) would hold back. The caller stops it.
    static func dedicated() throws -> PostgresCluster { try PostgresCluster() }

    private static func stopShared() {
        guard case .success(let cluster)? = started.withLock({ $0 }) else { return }
        cluster.stop()
    }

    private init() throws {
        guard FileManager.default.isExecutableFile(atPath: "\(Self.binaries)/pg_ctl") else {
            throw TestFailure("PostgreSQL 15 is not installed (\(Self.binaries)/pg_ctl is missing); scripts/ensure-deps.sh installs postgresql-15")
        }
        user = getuid() == 0 ? "postgres" : NSUserName()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["-R", "postgres:postgres", directory]) }
        port = try Self.freePort()
        try asUser("\(Self.binaries)/initdb", ["-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        try start()
    }

    /// Run the server as a child of this process (`pg_ctl start` daemonises it, and a tool
    /// that leaves a daemon behind never reports its end to Foundation's `Process`), then
    /// wait until it accepts connections.
    private func start() throws {
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: Self.touch("\(directory)/server.log")))
        let server = Process()
        let command = ["\(Self.binaries)/postgres", "-D", "\(directory)/data", "-p", "\(port)", "-k", directory,
                       "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                       "-c", "full_page_writes=off", "-c", "max_connections=400"]
        if getuid() == 0 {
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            server.arguments = ["-u", user, "--"] + command
        } else {
            server.executableURL = URL(fileURLWithPath: command[0])
            server.arguments = Array(command.dropFirst())
        }
        server.standardOutput = log
        server.standardError = log
        try server.run()
        let deadline = Date().addingTimeInterval(60)
        while (try? Self.run("\(Self.binaries)/pg_isready", ["-q", "-h", "127.0.0.1", "-p", "\(port)"])) == nil {
            guard server.isRunning else {
                throw TestFailure("PostgreSQL exited at start: \((try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? "")")
            }
            guard Date() < deadline else { throw TestFailure("PostgreSQL did not accept connections within 60 s") }
            usleep(50_000)  // pg_isready itself waits for the answer; this only paces the retries
        }
    }

    private static func touch(_ path: String) -> String {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        if getuid() == 0, let account = getpwnam("postgres") { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
        return path
    }

    /// `postgres://` URL of a new, empty database.
    func freshDatabase() throws -> String {
        let name = "t_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        try Self.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        return url(database: name)
    }

    /// A generous `connect_timeout`: the suites start tens of deployments at once on two cores,
    /// and the server forks a backend for each of their connections.
    func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable&connect_timeout=30" }

    /// Stop the server at once (SIGQUIT: connections are cut, nothing is waited for) and
    /// remove its folder.
    func stop() {
        signalServer(SIGQUIT)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Take the server away as an outage would, keeping its data for ``resume()``: SIGINT, a
    /// fast shutdown, cuts every connection and aborts open transactions, but first writes
    /// out what was committed (with `synchronous_commit = off`, SIGQUIT would lose the last
    /// fraction of a second of commits, which is this cluster's setting, not the outage).
    func halt() { signalServer(SIGINT) }

    private func signalServer(_ signal: Int32) {
        if let text = try? String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8),
           let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) {
            kill(pid, signal)
            // Gone once it has exited (it removes files of its own on the way out).
            let deadline = Date().addingTimeInterval(5)
            while kill(pid, 0) == 0, Date() < deadline { usleep(10_000) }
        }
    }

    /// Start the server again after ``halt()``: the same data, the same port.
    func resume() throws { try start() }

    private func asUser(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 { try Self.run("/usr/sbin/runuser", ["-u", user, "--", tool] + arguments) } else { try Self.run(tool, arguments) }
    }

    /// Run a tool to its end; its output goes to a file (a server it starts inherits the
    /// descriptors, so a pipe would stay open), and the end is told by the termination handler.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-pg-tool-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        let ended = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in ended.signal() }
        try p.run()
        guard ended.wait(timeout: .now() + 120) == .success else {
            p.terminate()
            throw TestFailure("\(tool) \(arguments.joined(separator: " ")) did not finish within 120 s")
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else { throw TestFailure("\(tool) \(arguments.joined(separator: " ")) exited with \(p.terminationStatus): \(text)") }
        return text
    }

    /// A port the system just handed out on 127.0.0.1 (closed again for the server to take).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

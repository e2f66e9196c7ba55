import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An external service's stand-in, written in Python (`Tests/Tools/NAME.py`), serving its
/// wire format on 127.0.0.1. It runs in the virtual environment `make test` prepares
/// (`scripts/test-venv.sh`) and prints its port as its first line.
final class PythonServer: @unchecked Sendable {
    static let python = TestKernel.repositoryRoot.appendingPathComponent(".build/test-venv/bin/python").path

    static func script(_ name: String) -> String {
        TestKernel.repositoryRoot.appendingPathComponent("Tests/Tools/\(name).py").path
    }

    let process = Process()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    /// Start `Tests/Tools/NAME.py`; returns once it printed its port. Python's start-up and
    /// imports take seconds under load, so the wait happens on a thread of its own, not on
    /// Swift's cooperative pool that other tests' WebSocket clients need.
    static func start(_ name: String, arguments: [String]) async throws -> PythonServer {
        try await onThread { try PythonServer(name, arguments: arguments) }
    }

    private init(_ name: String, arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw TestFailure("\(Self.python) is missing: run `make test` (it runs scripts/test-venv.sh)")
        }
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script(name)] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = [UInt8]()
        while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw TestFailure("\(name) did not start") }
        self.port = port
    }

    /// SIGKILL: the test process may have SIGTERM blocked, and a child inherits that mask.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// What the stand-in received, oldest first (its `GET /_requests`).
    func requests() async throws -> [JSONValue] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/_requests")!)
        return try JSONValue.parse(Array(data))["requests"].array ?? []
    }
}

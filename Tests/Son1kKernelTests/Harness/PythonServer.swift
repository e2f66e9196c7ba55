import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An external service's stand-in, written in Python (`Tests/Tools/NAME.py`), serving its
/// wire format on 127.0.0.1. It runs in the virtual environment `make test` prepares
/// (`scripts/test-venv.sh`) and prints its port as its first line, or a JSON object with a
/// `port` and whatever else a test needs to know (credentials it made).
final class PythonServer: @unchecked Sendable {
    static let python = TestKernel.repositoryRoot.appendingPathComponent(".build/test-venv/bin/python").path

    static func script(_ name: String) -> String {
        TestKernel.repositoryRoot.appendingPathComponent("Tests/Tools/\(name).py").path
    }

    let process = Process()
    let port: Int
    /// The first line when it was a JSON object.
    private(set) var info: JSONValue = [:]
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
        if let port = Int(String(decoding: line, as: UTF8.self)) {
            self.port = port
        } else if let info = try? JSONValue.parse(line), let port = info["port"].int {
            self.port = port
            self.info = info
        } else {
            throw TestFailure("\(name) did not start")
        }
    }

    /// Run `Tests/Tools/NAME.py ARGUMENTS` to its end with `input` on its standard input, on a
    /// thread of its own (Python's start-up takes seconds under load); its standard output.
    static func output(of name: String, _ arguments: [String] = [], input: [UInt8] = []) async throws -> [UInt8] {
        try await onThread {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [script(name)] + arguments
            let stdin = Pipe()
            let stdout = Pipe()
            p.standardInput = stdin
            p.standardOutput = stdout
            try p.run()
            stdin.fileHandleForWriting.write(Data(input))
            try stdin.fileHandleForWriting.close()
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestFailure("\(name).py \(arguments.joined(separator: " ")) exited with \(p.terminationStatus)") }
            return Array(data)
        }
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

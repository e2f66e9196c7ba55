import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Stripe for the billing tests: `Tests/Tools/stripe_fake.py` serving Stripe's wire format on
/// 127.0.0.1, and webhook signatures made by Stripe's own Python library. Both run in the
/// virtual environment `make test` prepares (`scripts/test-venv.sh`).
final class StripeFake: @unchecked Sendable {
    static let python = TestKernel.repositoryRoot.appendingPathComponent(".build/test-venv/bin/python").path
    static let script = TestKernel.repositoryRoot.appendingPathComponent("Tests/Tools/stripe_fake.py").path

    let process = Process()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(key: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw TestFailure("\(Self.python) is missing: run `make test` (it runs scripts/test-venv.sh) to install Stripe's library")
        }
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script, "serve", key]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line is the port it listens on.
        var line = [UInt8]()
        while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw TestFailure("the Stripe fake did not start") }
        self.port = port
    }

    /// SIGKILL: the test process may have SIGTERM blocked, and a child inherits that mask.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// What the fake received, oldest first: `{path, headers, form: [[name, value]]}`.
    func requests() async throws -> [JSONValue] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/_requests")!)
        return try JSONValue.parse(Array(data))["requests"].array ?? []
    }

    /// The `Stripe-Signature` header Stripe's library makes for `payload` at `timestamp`.
    static func sign(_ payload: [UInt8], secret: String, timestamp: Int) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, "sign", secret, String(timestamp)]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(payload))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("signing failed") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

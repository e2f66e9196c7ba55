import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Stripe for the billing tests: `Tests/Tools/stripe_fake.py` serving Stripe's wire format on
/// 127.0.0.1, and webhook signatures made by Stripe's own Python library. Both run in the
/// virtual environment `make test` prepares (`scripts/test-venv.sh`).
final class StripeFake: @unchecked Sendable {
    static let python = PythonServer.python
    static let script = PythonServer.script("stripe_fake")

    let server: PythonServer
    var port: Int { server.port }
    var base: String { server.base }

    private init(server: PythonServer) { self.server = server }

    /// Start the fake; returns once it listens.
    static func start(key: String) async throws -> StripeFake {
        StripeFake(server: try await PythonServer.start("stripe_fake", arguments: ["serve", key]))
    }

    func stop() { server.stop() }

    /// What the fake received, oldest first: `{path, headers, form: [[name, value]]}`.
    func requests() async throws -> [JSONValue] { try await server.requests() }

    /// The `Stripe-Signature` header Stripe's library makes for `payload` at `timestamp`
    /// (Python starts and imports Stripe's library: seconds under load, so on a thread of its own).
    static func sign(_ payload: [UInt8], secret: String, timestamp: Int) async throws -> String {
        try await onThread { try signNow(payload, secret: secret, timestamp: timestamp) }
    }

    private static func signNow(_ payload: [UInt8], secret: String, timestamp: Int) throws -> String {
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

import Foundation
import Son1kPluginKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Stripe for the billing tests: `Tests/Tools/stripe_fake.py` serving Stripe's wire format on
/// 127.0.0.1, and webhook signatures made by Stripe's own Python library. Both run in the
/// virtual environment `make test` prepares (`scripts/test-venv.sh`).
final class StripeFake: @unchecked Sendable {
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
        let header = try await PythonServer.output(of: "stripe_fake", ["sign", secret, String(timestamp)], input: payload)
        return String(decoding: header, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

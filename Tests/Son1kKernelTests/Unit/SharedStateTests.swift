import Foundation
@testable import Son1kKernel
import Son1kPluginKit
import Synchronization
import Testing

/// What several instances on one database share through it: the generated JWT secret, and
/// scheduled actions published once per period whichever instance's timer fires.
@Suite struct SharedStateTests {
    @Test(arguments: Backend.allCases) func instancesOnOneDatabaseShareTheGeneratedJWTSecret(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        let results = await onThreads(2) { _ in
            Result { () throws -> String in
                var s = KernelSettings()
                s.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-secret-\(UUID())").path
                return try Kernel.jwtSecret(s, storage: storage)
            }
        }
        let secrets = try results.map { try $0.get() }
        #expect(secrets[0] == secrets[1] && secrets[0].count >= 48, "two instances starting at once agree on one secret")

        // A deployment from before keeps its file's secret (its tokens stay valid).
        let other = try await backend.freshStorage()
        defer { other.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-secret-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("an-earlier-secret-of-this-deployment".utf8).write(to: dir.appendingPathComponent("jwt_secret"))
        var earlier = KernelSettings()
        earlier.dataDirectory = dir.path
        let settings = earlier
        let carried = try await onThread { try Kernel.jwtSecret(settings, storage: other) }
        #expect(carried == "an-earlier-secret-of-this-deployment")
    }

    @Test(arguments: Backend.allCases) func aScheduledActionIsPublishedOncePerPeriodAcrossInstances(_ backend: Backend) async throws {
        let storage = try await backend.freshStorage()
        defer { storage.close() }
        let published = Mutex<[String]>([])
        let instances = (0..<2).map { n in
            Scheduler(transactions: TransactionTable(storage: storage), logger: .init(label: "test"), queue: .global()) { topic, _, _, _ in
                published.withLock { $0.append("\(n):\(topic)") }
            }
        }
        let start: Int64 = 1_800_000_000_000
        // (instance, milliseconds after start) — both timers fire in each 10 s period.
        let ticks: [(Int, Int64)] = [(0, 0), (1, 300), (1, 10_100), (0, 10_400), (0, 20_050), (1, 20_900)]
        let outcomes = try await onThreads(1) { _ in
            Result { try ticks.map { i, at in try instances[i].tick(every: 10, topic: "tasks.tick_fired", publisher: "tasks", now: start + at) } }
        }[0].get()
        #expect(outcomes == [true, false, true, false, true, false], "one publication per period: \(outcomes)")
        #expect(published.withLock { $0 } == ["0:tasks.tick_fired", "1:tasks.tick_fired", "0:tasks.tick_fired"])
    }
}

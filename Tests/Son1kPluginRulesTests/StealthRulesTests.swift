import Foundation
import Son1kContracts
import Son1kPluginKit
import Son1kPluginTesting
@testable import Son1kStealth
import Testing

/// The stealth plugin's rotation: budgets and rests, strategies, and the health that
/// reported outcomes cause, on the test host.
@Suite struct StealthRulesTests {
    static let t0 = Date(iso8601: "2026-05-10T12:00:00Z")!

    func host(budget: Int = 2, strategy: Strategy = .roundRobin) throws -> TestHost<StealthPlugin> {
        var config = StealthPlugin.Config()
        config.encryptionKey = "a test key"
        config.budget = budget
        config.cooldownS = 600
        config.strategy = strategy.rawValue
        config.providers = ["musicgen": .init(baseUrl: "http://musicgen.test")]
        let host = try TestHost(StealthPlugin.self, config: config, clock: TestClock(start: Self.t0))
        for label in ["a", "b", "c"] {
            let added = try host.request("POST", "/api/stealth/accounts", as: .admin(),
                                         json: ["provider": "musicgen", "label": label, "credential": "sk-secret-\(label)-0000"])
            #expect(added.status == 201)
        }
        return host
    }

    func lease(_ host: TestHost<StealthPlugin>) throws -> Lease {
        try host.call(.stealthAcquire, LeaseRequest(provider: "musicgen"))
    }

    @Test func roundRobinTakesEachAccountInTurnUntilItsBudgetIsSpent() throws {
        let host = try host()
        let labels = try (0..<6).map { _ in try lease(host).label }
        #expect(labels == ["a", "b", "c", "a", "b", "c"])
        let first = try host.call(.stealthAcquire, LeaseRequest(provider: "musicgen"))
        #expect(!first.available && first.reason == .allResting)
        #expect(first.nextAvailableAt == Self.t0.addingTimeInterval(600).iso8601 && first.retryAfterS == 600)
        // The rest ends on the minute it was set for, with a fresh budget.
        host.clock.advance(by: 599)
        #expect(try !lease(host).available)
        host.clock.advance(by: 1)
        #expect(try lease(host).available)
    }

    @Test func aLeaseCarriesTheCredentialAndTheProvidersURL() throws {
        let host = try host()
        let lease = try lease(host)
        #expect(lease.baseUrl == "http://musicgen.test")
        #expect(lease.headers == ["Authorization": "Bearer sk-secret-a-0000"])
        // Nowhere else: the account as the API shows it is masked.
        let account = try host.request("GET", "/api/stealth/accounts/\(lease.accountId!)", as: .worker())
        #expect(account.status == 200 && !account.text.contains("sk-secret-a-0000"))
        #expect(try host.call(.stealthAcquire, LeaseRequest(provider: "xtts")).reason == .noAccounts)
    }

    @Test func leastUsedPrefersTheAccountWithTheFewestLeases() throws {
        let host = try host(budget: 10, strategy: .leastUsed)
        let labels = try (0..<6).map { _ in try lease(host).label! }
        #expect(Dictionary(grouping: labels, by: { $0 }).mapValues(\.count) == ["a": 2, "b": 2, "c": 2])
    }

    @Test func reportedOutcomesRestDegradeAndBan() throws {
        let host = try host(budget: 100)
        func report(_ outcome: LeaseReport.Outcome, status: Int? = nil, retryAfter: Double? = nil, body: String? = nil) throws -> LeaseVerdict {
            let lease = try lease(host)
            return try host.call(.stealthReport, LeaseReport(leaseId: lease.leaseId!, outcome: outcome, statusCode: status,
                                                             retryAfterS: retryAfter, bodyExcerpt: body))
        }
        // a: a 429 called an error is a rate limit, resting for its Retry-After.
        let limited = try report(.error, status: 429, retryAfter: 120)
        #expect(limited.outcome == .rateLimited && limited.health == .healthy)
        // b: "quota exceeded" in a 400's body is a rate limit too.
        #expect(try report(.error, status: 400, body: "Quota exceeded for today").outcome == .rateLimited)
        // c: a 401 bans it.
        let banned = try report(.error, status: 401)
        #expect(banned.outcome == .authFailed && banned.health == .banned)
        #expect(try !lease(host).available)
        host.clock.advance(by: 120)
        let back = try lease(host)
        #expect(back.label == "a")
        #expect(try host.call(.stealthReport, LeaseReport(leaseId: back.leaseId!, outcome: .ok)).health == .healthy)
        // Three errors in a row degrade an account (b's); a degraded account is leased only
        // when no healthy one is free.
        var streak: [LeaseVerdict.Health] = []
        while streak.count < 3 {
            let next = try lease(host)
            let failed = next.label == "b"
            let verdict = try host.call(.stealthReport, LeaseReport(leaseId: next.leaseId!, outcome: failed ? .error : .ok, statusCode: failed ? 500 : 200))
            if failed { streak.append(verdict.health) }
        }
        #expect(streak == [.healthy, .healthy, .degraded])
        #expect(try (0..<4).map { _ in try lease(host).label } == ["a", "a", "a", "a"])
        // One report per lease.
        #expect { try host.call(.stealthReport, LeaseReport(leaseId: back.leaseId!, outcome: .ok)) } throws: {
            ($0 as? PluginError)?.code == "lease_reported"
        }
    }

    @Test func classifyReadsTheStatusAndTheWords() {
        func classify(_ outcome: LeaseReport.Outcome, _ status: Int?, _ body: String? = nil) -> LeaseReport.Outcome {
            Rotation.classify(LeaseReport(leaseId: "l", outcome: outcome, statusCode: status, bodyExcerpt: body))
        }
        #expect(classify(.ok, 403) == .authFailed)
        #expect(classify(.error, 503) == .rateLimited)
        #expect(classify(.error, 500, "Too Many Requests, try again later") == .rateLimited)
        #expect(classify(.ok, 200, "rate limit docs") == .ok)
        #expect(classify(.error, 500, "internal error") == .error)
    }
}

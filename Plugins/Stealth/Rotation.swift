import Foundation
import Son1kContracts
import Son1kPluginKit

/// Leasing accounts in turn, and the health transitions reported outcomes cause. Every
/// step runs in one transaction, so concurrent leases never take an account past its budget.
struct Rotation {
    let ctx: Context<StealthPlugin.Config>
    var store: AccountStore { AccountStore(ctx: ctx) }
    var now: Int64 { ctx.now.epochMs }

    /// Phrases that mean "slow down" in upstream error bodies, whatever the status code.
    static let rateLimitPhrases = ["rate limit", "rate-limit", "ratelimit", "too many requests", "quota exceeded", "try again later"]

    // MARK: Leasing

    /// A lease on the next account of `provider`, or `available: false` with the time the
    /// first resting account comes back.
    func acquire(provider: String) throws -> Lease {
        let now = self.now
        let budget = ctx.config.budget(for: provider)
        let settings = ctx.config.provider(provider)
        let chosen: (account: Account, leaseID: String)? = try ctx.db.transaction(isolation: .readCommitted) { tx in
            try lockAccounts(of: provider, in: tx)
            let accounts = try usable(provider, in: tx)
            guard let account = try pick(from: accounts, provider: provider, budget: budget, in: tx) else { return nil }
            let count = account.requestCount + 1
            let exhausted = count >= budget
            try tx.exec("""
                UPDATE stealth_accounts SET request_count = ?, total_requests = total_requests + 1, last_used_ms = ?,
                    cooldown_until = ?, cooldown_reason = ?
                WHERE id = ?
                """, [.int(Int64(count)), .int(now),
                      exhausted ? .int(now + Int64(ctx.config.cooldownS(for: provider)) * 1000) : .null,
                      exhausted ? .text("budget of \(budget) requests used") : .null, .text(account.id)])
            let leaseID = "lease_" + Crypto.randomToken(12)
            try tx.exec("INSERT INTO stealth_leases (id, account_id, provider, acquired_ms) VALUES (?, ?, ?, ?)",
                        [.text(leaseID), .text(account.id), .text(provider), .int(now)])
            return (account, leaseID)
        }
        guard let (account, leaseID) = chosen else { return try unavailable(provider) }
        let vault = Vault(ctx.config)
        let credential = try vault.open(account.credentialSealed, account: account.id)
        let scheme = settings.authScheme ?? "Bearer"
        ctx.metrics.increment("stealth_leases", labels: ["provider": provider])
        return Lease(available: true, provider: provider, leaseId: leaseID, accountId: account.id, label: account.label,
                     baseUrl: [account.baseUrl, settings.baseUrl].compactMap { $0 }.first { !$0.isEmpty },
                     headers: [settings.authHeader ?? "Authorization": scheme.isEmpty ? credential : "\(scheme) \(credential)"],
                     proxy: try account.proxySealed.map { try vault.open($0, account: account.id) })
    }

    /// Leases of one provider take turns: on PostgreSQL this READ COMMITTED transaction first
    /// locks the provider's account rows, so a concurrent lease waits here, and each statement
    /// after the lock reads what the lease before committed — the budget check stays exact,
    /// and a thousand concurrent leases queue instead of aborting one another as serializable
    /// transactions over the same few rows do. SQLite's single writer already takes turns.
    private func lockAccounts(of provider: String, in tx: Database) throws {
        guard tx.dialect == .postgres else { return }
        _ = try tx.query("SELECT id FROM stealth_accounts WHERE provider = ? ORDER BY id FOR UPDATE", [.text(provider)])
    }

    /// Active, unbanned accounts of `provider` in rotation order; expired cooldowns end here
    /// (a fresh budget window).
    private func usable(_ provider: String, in tx: Database) throws -> [Account] {
        try tx.exec("""
            UPDATE stealth_accounts SET request_count = 0, cooldown_until = NULL, cooldown_reason = NULL
            WHERE provider = ? AND cooldown_until IS NOT NULL AND cooldown_until <= ?
            """, [.text(provider), .int(now)])
        return try inRotation(provider, in: tx)
    }

    private func inRotation(_ provider: String, in db: Database) throws -> [Account] {
        try db.query(Account.self, "SELECT \(Account.columns) FROM stealth_accounts WHERE provider = ? AND active = 1 AND health != 'banned' ORDER BY seq",
                     [.text(provider)])
    }

    /// The accounts a lease may go to now: free healthy ones, else free degraded ones.
    private func candidates(_ accounts: [Account], budget: Int) -> [Account] {
        let free = accounts.filter { $0.isAvailable(at: now, budget: budget) }
        let healthy = free.filter { $0.healthState == .healthy }
        return healthy.isEmpty ? free : healthy
    }

    /// The strategy's choice among free accounts: healthy ones first, degraded ones only
    /// when no healthy one is free.
    private func pick(from accounts: [Account], provider: String, budget: Int, in tx: Database) throws -> Account? {
        let pool = candidates(accounts, budget: budget)
        guard !pool.isEmpty else { return nil }
        switch ctx.config.strategy(for: provider) {
        case .random:
            return pool.randomElement()
        case .leastUsed:
            return pool.min { ($0.requestCount, $0.totalRequests, $0.seq) < ($1.requestCount, $1.totalRequests, $1.seq) }
        case .roundRobin:
            let last = try tx.query("SELECT last_seq FROM stealth_rotation WHERE provider = ?", [.text(provider)]).first?["last_seq"].int ?? 0
            let next = pool.first { $0.seq > Int64(last) } ?? pool[0]
            try tx.exec("""
                INSERT INTO stealth_rotation (provider, last_seq) VALUES (?, ?)
                ON CONFLICT (provider) DO UPDATE SET last_seq = excluded.last_seq
                """, [.text(provider), .int(next.seq)])
            return next
        }
    }

    /// "None available", with when the first resting account returns (null when none will
    /// without an admin: every account banned or inactive).
    private func unavailable(_ provider: String) throws -> Lease {
        let rows = try ctx.db.query("""
            SELECT COUNT(*) AS total, MIN(CASE WHEN active = 1 AND health != 'banned' THEN cooldown_until END) AS next
            FROM stealth_accounts WHERE provider = ?
            """, [.text(provider)])
        let total = rows.first?["total"].int ?? 0
        let next = rows.first?["next"].double.map { Int64($0) }
        return Lease(available: false, provider: provider, reason: total == 0 ? .noAccounts : next == nil ? .noneUsable : .allResting,
                     nextAvailableAt: next.map { Date(epochMs: $0).iso8601 }, retryAfterS: next.map { Double(max(1, ($0 - now + 999) / 1000)) })
    }

    // MARK: Outcomes

    /// Applies a lease's outcome: rate limits rest the account (Retry-After honoured), errors
    /// in a row degrade it, 401/403 ban it, a success clears the error streak.
    func report(_ report: LeaseReport) throws -> LeaseVerdict {
        let now = self.now
        return try ctx.db.transaction(isolation: .readCommitted) { tx in
            // The lease's row locked first (see ``lockAccounts(of:in:)``): a second report of the
            // same lease waits, then finds it reported.
            if tx.dialect == .postgres {
                _ = try tx.query("SELECT id FROM stealth_leases WHERE id = ? FOR UPDATE", [.text(report.leaseId)])
            }
            guard let lease = try tx.query("SELECT account_id, outcome FROM stealth_leases WHERE id = ?", [.text(report.leaseId)]).first,
                  let accountID = lease["account_id"].string else {
                throw PluginError.notFound("No lease \(report.leaseId).", code: "lease_not_found")
            }
            guard lease["outcome"] == .null else {
                throw PluginError.conflict("Lease \(report.leaseId) was reported already.", code: "lease_reported")
            }
            // And the account's: the error streak below is read, then written.
            if tx.dialect == .postgres {
                _ = try tx.query("SELECT id FROM stealth_accounts WHERE id = ? FOR UPDATE", [.text(accountID)])
            }
            guard let account = try store.get(accountID, in: tx) else { throw AccountStore.notFound(accountID) }
            let excerpt = report.bodyExcerpt.map { Vault.redact(String($0.prefix(300)), secrets: store.secrets(of: account)) }
            let outcome = Self.classify(report)
            try tx.exec("UPDATE stealth_leases SET outcome = ?, status_code = ?, reported_ms = ? WHERE id = ?",
                        [.text(outcome.rawValue), SQLValue(report.statusCode), .int(now), .text(report.leaseId)])
            let described = ([report.statusCode.map { "HTTP \($0)" }, excerpt].compactMap { $0 }).joined(separator: ": ")
            let stamp = Date(epochMs: now).iso8601
            var health = account.healthState
            switch outcome {
            case .ok:
                if health == .degraded { health = .healthy }
                try tx.exec("UPDATE stealth_accounts SET total_ok = total_ok + 1, consecutive_errors = 0, health = ?, updated_at = ? WHERE id = ?",
                            [.text(health.rawValue), .text(stamp), .text(accountID)])
            case .rateLimited:
                let seconds = report.retryAfterS.map { min(max($0, 0), 86_400) } ?? Double(ctx.config.rateLimitCooldownS)
                let until = max(account.cooldownUntil ?? 0, now + Int64(seconds * 1000))
                try tx.exec("""
                    UPDATE stealth_accounts SET total_rate_limited = total_rate_limited + 1, cooldown_until = ?, cooldown_reason = ?,
                        last_error = ?, updated_at = ? WHERE id = ?
                    """, [.int(until), .text("rate limited (\(described.isEmpty ? "reported" : described))"), SQLValue(described.isEmpty ? nil : described),
                          .text(stamp), .text(accountID)])
                ctx.log.info("stealth: account \(accountID) (\(account.provider)) rate limited; resting until \(Date(epochMs: until).iso8601)")
            case .error:
                let streak = account.consecutiveErrors + 1
                if streak >= ctx.config.degradedAfter, health == .healthy {
                    health = .degraded
                    ctx.log.warning("stealth: account \(accountID) (\(account.provider)) degraded after \(streak) errors in a row")
                }
                try tx.exec("""
                    UPDATE stealth_accounts SET total_errors = total_errors + 1, consecutive_errors = ?, health = ?, last_error = ?,
                        updated_at = ? WHERE id = ?
                    """, [.int(Int64(streak)), .text(health.rawValue), SQLValue(described.isEmpty ? "error" : described), .text(stamp), .text(accountID)])
            case .authFailed:
                health = .banned
                try tx.exec("""
                    UPDATE stealth_accounts SET total_auth_failed = total_auth_failed + 1, health = 'banned', last_error = ?, updated_at = ?
                    WHERE id = ?
                    """, [SQLValue(described.isEmpty ? "authentication failed" : described), .text(stamp), .text(accountID)])
                ctx.log.warning("stealth: account \(accountID) (\(account.provider)) banned after an authentication failure; an admin must restore it")
            }
            return LeaseVerdict(leaseId: report.leaseId, accountId: accountID, outcome: outcome, health: health)
        }
    }

    /// The status code and the body's words count as much as the reporter's own outcome:
    /// a 429 called an "error" is still a rate limit, and so is a 400 saying "quota exceeded".
    static func classify(_ report: LeaseReport) -> LeaseReport.Outcome {
        if let code = report.statusCode {
            if code == 401 || code == 403 { return .authFailed }
            if code == 429 || code == 503 { return .rateLimited }
        }
        let failed = report.outcome == .error || (report.statusCode ?? 0) >= 400
        if failed, let text = report.bodyExcerpt?.lowercased(), rateLimitPhrases.contains(where: text.contains) {
            return .rateLimited
        }
        return report.outcome
    }

    // MARK: Operators

    /// Moves the round-robin cursor past the account that would be leased next.
    func rotate(provider: String) throws -> RotationView {
        let budget = ctx.config.budget(for: provider)
        let skipped: Account? = try ctx.db.transaction { tx in
            try pick(from: try usable(provider, in: tx), provider: provider, budget: budget, in: tx)
        }
        let next = try preview(provider: provider)
        return RotationView(provider: provider, skipped: skipped.map { store.view($0) }, next: next.map { store.view($0) })
    }

    /// The account the next lease would get under round robin, without taking it.
    func preview(provider: String) throws -> Account? {
        let budget = ctx.config.budget(for: provider)
        let pool = candidates(try inRotation(provider, in: ctx.db), budget: budget)
        let last = try ctx.db.query("SELECT last_seq FROM stealth_rotation WHERE provider = ?", [.text(provider)]).first?["last_seq"].int ?? 0
        return pool.first(where: { $0.seq > Int64(last) }) ?? pool.first
    }

    /// An operator's verdict. Workers may only take an account out (degraded, banned);
    /// restoring one to healthy is an admin's call, and clears its cooldown and error streak.
    func mark(_ id: String, health: Health, reason: String?, by principal: Principal) throws -> Account {
        if health == .healthy, !principal.isAdmin {
            throw PluginError.forbidden("Only an admin can restore an account to healthy.", code: "admin_only")
        }
        let stamp = ctx.now.iso8601
        let note = reason.map { String($0.prefix(300)) }
        let changed = health == .healthy
            ? try ctx.db.exec("""
                UPDATE stealth_accounts SET health = 'healthy', consecutive_errors = 0, cooldown_until = NULL, cooldown_reason = NULL,
                    request_count = 0, updated_at = ? WHERE id = ?
                """, [.text(stamp), .text(id)])
            : try ctx.db.exec("UPDATE stealth_accounts SET health = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
                              [.text(health.rawValue), SQLValue(note.map { "marked \(health.rawValue): \($0)" }), .text(stamp), .text(id)])
        guard changed.changes == 1 else { throw AccountStore.notFound(id) }
        ctx.log.info("stealth: account \(id) marked \(health.rawValue) by \(principal.role) \(principal.id)")
        return try store.require(id)
    }

    /// How a group of accounts stands: each one is available, in cooldown, banned or
    /// inactive (banned wins over inactive); degraded ones are counted again as such.
    struct Counts {
        var total = 0, active = 0, available = 0, banned = 0, inactive = 0, degraded = 0
        /// When the first resting account comes back (epoch ms).
        var nextAvailableMs: Int64?
        var inCooldown: Int { active - available }
    }

    func counts(_ accounts: [Account]) -> Counts {
        var c = Counts(total: accounts.count)
        for a in accounts {
            if a.isBanned { c.banned += 1; continue }
            if !a.isActive { c.inactive += 1; continue }
            c.active += 1
            if a.healthState == .degraded { c.degraded += 1 }
            if a.isAvailable(at: now, budget: ctx.config.budget(for: a.provider)) {
                c.available += 1
            } else if a.isResting(at: now), let until = a.cooldownUntil {
                c.nextAvailableMs = min(c.nextAvailableMs ?? until, until)
            }
        }
        return c
    }

    /// Counts for `/api/stealth/stats`: `available + in_cooldown = active_accounts`, never negative.
    func stats(provider: String?) throws -> StatsView {
        var sql = "SELECT \(Account.columns) FROM stealth_accounts"
        var params: [SQLValue] = []
        if let provider { sql += " WHERE provider = ?"; params.append(.text(provider)) }
        let accounts = try ctx.db.query(Account.self, sql, params)
        let c = counts(accounts)
        let providers = Set(accounts.map(\.provider) + [provider ?? ctx.config.defaultProvider] + ctx.config.providers.keys)
        return StatsView(totalAccounts: c.total, activeAccounts: c.active, inCooldown: c.inCooldown, banned: c.banned, inactive: c.inactive,
                         degraded: c.degraded, available: c.available,
                         rotationStrategy: ctx.config.strategy(for: provider ?? ctx.config.defaultProvider),
                         strategies: Dictionary(uniqueKeysWithValues: providers.map { ($0, ctx.config.strategy(for: $0)) }), provider: provider)
    }

    /// `/api/stealth/health`: per provider counts and next free time, and every account.
    func health() throws -> HealthView {
        let accounts = try ctx.db.query(Account.self, "SELECT \(Account.columns) FROM stealth_accounts ORDER BY provider, seq")
        var providers: [String: HealthView.Provider] = [:]
        for (name, group) in Dictionary(grouping: accounts, by: \.provider) {
            let c = counts(group)
            providers[name] = .init(total: c.total, available: c.available, banned: c.banned, degraded: c.degraded,
                                    nextAvailableAt: c.nextAvailableMs.map { Date(epochMs: $0) }, strategy: ctx.config.strategy(for: name))
        }
        let free = providers.values.filter { $0.available > 0 }.count
        return HealthView(
            status: providers.isEmpty || free == 0 ? .unavailable : free == providers.count ? .ok : .degraded,
            providers: providers,
            accounts: accounts.map { a in
                .init(id: a.id, provider: a.provider, label: a.label, health: a.healthState, active: a.isActive,
                      available: a.isAvailable(at: now, budget: ctx.config.budget(for: a.provider)),
                      cooldownUntil: a.isResting(at: now) ? a.cooldownUntil.map { Date(epochMs: $0) } : nil, lastError: a.lastError)
            })
    }
}

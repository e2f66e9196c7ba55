import Foundation
import Synchronization

/// The clock a ``TestHost`` gives its plugin (`ctx.now`): it stands still until a test moves
/// it, so period boundaries, cooldowns and expiries are crossed on purpose, not by waiting.
///
/// ```swift
/// host.clock.set(Date(iso8601: "2026-01-31T23:59:59Z")!)
/// host.clock.advance(by: 2)   // now February
/// ```
public final class TestClock: Sendable {
    private let ms: Atomic<Int64>

    /// A clock at `start` (by default 2026-01-01T00:00:00Z).
    public init(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        ms = Atomic(start.epochMs)
    }

    /// The current instant.
    public var now: Date { Date(epochMs: ms.load(ordering: .relaxed)) }

    /// Milliseconds since 1970, as the host API reports them.
    public var nowMs: Int64 { ms.load(ordering: .relaxed) }

    /// Jump to `date`.
    public func set(_ date: Date) { ms.store(date.epochMs, ordering: .relaxed) }

    /// Move on by `seconds`.
    public func advance(by seconds: TimeInterval) {
        ms.add(Int64((seconds * 1000).rounded()), ordering: .relaxed)
    }
}

import Foundation
import Son1kPluginKit
import Synchronization

/// Fans committed actions out to the WebSocket connections of the user they concern
/// (`GET /api/events/ws`). Best effort and in memory: the durable record is the outbox.
///
/// At shutdown ``closeAll()`` ends every connection's stream, which tells its socket to close
/// as "going away"; a socket leaves the table (``cancel(_:)``) once it has, and
/// ``waitUntilAllClosed(timeout:)`` waits for the last.
final class EventStream: Sendable {
    struct Subscriber {
        var userID: String
        var continuation: AsyncStream<String>.Continuation
    }

    private struct State {
        var subscribers: [UUID: Subscriber] = [:]
        var closing = false
        /// Waiting for the table to empty, by waiter.
        var emptied: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A stream of JSON event envelopes for `userID`; call `cancel` when the socket closes.
    /// During shutdown the stream is already finished.
    func subscribe(userID: String) -> (id: UUID, events: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        let closing = state.withLock { s -> Bool in
            s.subscribers[id] = Subscriber(userID: userID, continuation: continuation)
            return s.closing
        }
        if closing { continuation.finish() }
        return (id, stream)
    }

    /// The socket is gone (closed by either side).
    func cancel(_ id: UUID) {
        let (removed, emptied) = state.withLock { s -> (Subscriber?, [CheckedContinuation<Void, Never>]) in
            let removed = s.subscribers.removeValue(forKey: id)
            guard s.subscribers.isEmpty else { return (removed, []) }
            defer { s.emptied = [:] }
            return (removed, Array(s.emptied.values))
        }
        removed?.continuation.finish()
        for waiter in emptied { waiter.resume() }
    }

    func publish(_ events: [EventRecord]) {
        let targets = state.withLock { Array($0.subscribers.values) }
        guard !targets.isEmpty else { return }
        for event in events {
            guard let userID = event.userID else { continue }
            let text = event.envelope.jsonString
            for s in targets where s.userID == userID { s.continuation.yield(text) }
        }
    }

    /// Shutdown: finish every stream (each socket then sends its close frame) and every one
    /// opened from now on.
    func closeAll() {
        let open = state.withLock { s -> [Subscriber] in
            s.closing = true
            return Array(s.subscribers.values)
        }
        for s in open { s.continuation.finish() }
    }

    /// Returns once every socket has left the table, or after `timeout`, whichever is first.
    func waitUntilAllClosed(timeout: Duration) async {
        let id = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = state.withLock { s -> Bool in
                if s.subscribers.isEmpty { return true }
                s.emptied[id] = continuation
                return false
            }
            if empty { return continuation.resume() }
            Task {
                try? await Task.sleep(for: timeout)
                state.withLock { $0.emptied.removeValue(forKey: id) }?.resume()
            }
        }
    }

    var connectionCount: Int { state.withLock { $0.subscribers.count } }
}

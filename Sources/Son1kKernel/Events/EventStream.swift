import Foundation
import Son1kPluginKit
import Synchronization

/// Fans committed actions out to the WebSocket connections of the user they concern
/// (`GET /api/events/ws`). Best effort and in memory: the durable record is the outbox.
final class EventStream: Sendable {
    struct Subscriber {
        var userID: String
        var continuation: AsyncStream<String>.Continuation
    }

    private let subscribers = Mutex<[UUID: Subscriber]>([:])

    /// A stream of JSON event envelopes for `userID`; call `cancel` when the socket closes.
    func subscribe(userID: String) -> (id: UUID, events: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        subscribers.withLock { $0[id] = Subscriber(userID: userID, continuation: continuation) }
        return (id, stream)
    }

    func cancel(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
    }

    func publish(_ events: [EventRecord]) {
        let targets = subscribers.withLock { Array($0.values) }
        guard !targets.isEmpty else { return }
        for event in events {
            guard let userID = event.userID else { continue }
            let text = event.envelope.jsonString
            for s in targets where s.userID == userID { s.continuation.yield(text) }
        }
    }

    var connectionCount: Int { subscribers.withLock { $0.count } }
}

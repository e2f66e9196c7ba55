import Foundation
import Logging
import Son1kPluginKit
import Synchronization

/// Publishes an action every N seconds on a plugin's behalf (`host->schedule`).
final class Scheduler: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let publish: @Sendable (String, String, JSONValue) throws -> Void
    let logger: Logger
    /// Writing the outbox blocks, so it runs where blocking work belongs, not on the timer's task.
    let queue: DispatchQueue

    /// `publish(topic, publisher, data)` records the action.
    init(logger: Logger, queue: DispatchQueue, publish: @escaping @Sendable (String, String, JSONValue) throws -> Void) {
        self.logger = logger
        self.queue = queue
        self.publish = publish
    }

    func schedule(every seconds: Int, topic: String, publisher: String) throws {
        guard seconds >= 1 else { throw PluginError.invalid("every_s", "must be at least 1 second.") }
        guard EventBus.isValidTopic(topic) else { throw PluginError.invalid("topic", "'\(topic)' must look like plugin.noun_verb.") }
        let task = Task.detached { [publish, logger, queue] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
                do {
                    try await queue.run { try publish(topic, publisher, ["scheduled_at": .string(Timestamp.now())]) }
                } catch {
                    logger.error("scheduled action \(topic) of \(publisher) failed: \(error)")
                }
            }
        }
        tasks.withLock { $0.append(task) }
    }

    func cancelAll() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}

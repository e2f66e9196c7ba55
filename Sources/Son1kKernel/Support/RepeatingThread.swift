import Foundation
import Synchronization

/// Work repeated on a thread of its own, every `interval` seconds until ``stop()``: the
/// kernel's housekeeping loops (the queue's maintenance, the outbox tail). A thread rather
/// than a task, because each round blocks on the database.
final class RepeatingThread: Sendable {
    private let name: String
    private let interval: Double
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchGroup()

    init(name: String, interval: Double) {
        self.name = name
        self.interval = interval
    }

    /// Run `first` once, then `round` every interval until stopped.
    func start(first: @escaping @Sendable () -> Void = {}, round: @escaping @Sendable () -> Void) {
        done.enter()
        let thread = Thread { [self] in
            first()
            while !stopping.load(ordering: .acquiring) {
                round()
                Thread.sleep(forTimeInterval: interval)
            }
            done.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Ask the loop to end and wait up to two seconds for its round to finish.
    func stop() {
        stopping.store(true, ordering: .releasing)
        _ = done.wait(timeout: .now() + 2)
    }
}

import Synchronization

/// Lets a background loop sleep until there is work or a timeout passes, whichever comes
/// first. A signal sent while nobody waits is remembered, so none is lost between a loop's
/// check and its wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else { s.pending = true; return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                if s.pending { s.pending = false; return nil }
                s.generation += 1
                s.waiter = continuation
                return s.generation
            }
            guard let generation else { continuation.resume(); return }
            Task {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard s.generation == generation, let w = s.waiter else { return nil }
                    s.waiter = nil
                    return w
                }
                waiter?.resume()
            }
        }
    }
}

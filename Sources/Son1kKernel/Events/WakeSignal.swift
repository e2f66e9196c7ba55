import Synchronization

/// Lets a background loop sleep until there is work or a timeout passes, whichever comes
/// first. A signal sent while nobody waits is remembered, so none is lost between a loop's
/// check and its wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        /// The task that ends the current wait at its timeout; cancelled when a signal ends
        /// it first, so a busy loop does not leave one sleeping timer behind per wait.
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let (waiter, timer) = state.withLock { s -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            guard let w = s.waiter else { s.pending = true; return (nil, nil) }
            s.waiter = nil
            defer { s.timer = nil }
            return (w, s.timer)
        }
        timer?.cancel()
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
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard s.generation == generation, let w = s.waiter else { return nil }
                    s.waiter = nil
                    s.timer = nil
                    return w
                }
                waiter?.resume()
            }
            // The wait may already have been ended by a signal (or its timer) in between.
            let stale = state.withLock { s -> Bool in
                guard s.generation == generation, s.waiter != nil else { return true }
                s.timer = timer
                return false
            }
            if stale { timer.cancel() }
        }
    }
}

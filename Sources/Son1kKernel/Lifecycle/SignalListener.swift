import Dispatch
import Foundation
import Synchronization

/// Receives process signals (SIGTERM, SIGINT) as values to await, instead of their default
/// action of ending the process.
///
/// Created before the server starts, so a signal that arrives during start-up is kept and
/// handed to the first `next()`. Each signal is handed to one call of `next()`, in order; a
/// waiting `next()` returns nil when its task is cancelled.
final class SignalListener: Sendable {
    private struct State {
        var received: [Int32] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Int32?, Never>)?
        var nextWaiter: UInt64 = 0
        /// Takes every later signal on the signal queue itself (see ``onSignal(_:)``).
        var handler: (@Sendable (Int32) -> Void)?
    }

    private let state = Mutex(State())
    /// Set in `init`, cancelled in `deinit`, touched nowhere else.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        let queue = DispatchQueue(label: "son1k.signals")
        var sources: [any DispatchSourceSignal] = []
        for signo in signals {
            // The default action would end the process before the dispatch source saw it.
            Foundation.signal(signo, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: signo, queue: queue))
        }
        self.sources = sources
        for (source, signo) in zip(sources, signals) {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let (waiter, handler) = state.withLock { s -> (CheckedContinuation<Int32?, Never>?, (@Sendable (Int32) -> Void)?) in
                    if let handler = s.handler { return (nil, handler) }
                    guard let w = s.waiter else { s.received.append(signo); return (nil, nil) }
                    s.waiter = nil
                    return (w.continuation, nil)
                }
                handler?(signo)
                waiter?.resume(returning: signo)
            }
            source.resume()
        }
    }

    deinit { for source in sources { source.cancel() } }

    /// The next signal received (one already received returns at once), or nil if the
    /// calling task is cancelled first. One caller at a time.
    func next() async -> Int32? {
        let id = state.withLock { s -> UInt64 in s.nextWaiter += 1; return s.nextWaiter }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let ready = state.withLock { s -> Int32?? in
                    if !s.received.isEmpty { return .some(s.received.removeFirst()) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiter = (id, continuation)
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Int32?, Never>? in
                guard let w = s.waiter, w.id == id else { return nil }
                s.waiter = nil
                return w.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Hand every signal from now on (and one already received) to `handler`, on the
    /// listener's own dispatch queue: it runs even when every thread of Swift's cooperative
    /// pool is busy, which is what a "stop at once" must not wait for.
    func onSignal(_ handler: @escaping @Sendable (Int32) -> Void) {
        let pending = state.withLock { s -> [Int32] in
            s.handler = handler
            defer { s.received.removeAll() }
            return s.received
        }
        pending.forEach(handler)
    }

    /// `SIGTERM`, `SIGINT` or the number, for logs.
    static func name(_ signo: Int32) -> String {
        switch signo {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        default: return "signal \(signo)"
        }
    }
}

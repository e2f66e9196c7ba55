import Foundation
import ServiceLifecycle
import Son1kPluginKit

/// What SIGTERM (or SIGINT) does: a deploy, not a crash.
///
/// 1. Background work stops: schedules end, the kernel's job workers are told to stop (what
///    they have not finished goes back to the queue without spending the attempt), and every
///    plugin is told to drain.
/// 2. WebSockets close with 1001 (going away), so their clients reconnect elsewhere.
/// 3. The server stops accepting connections; requests in flight finish; idle keep-alive
///    connections close.
/// 4. Outbox deliveries that are due run; those due later (retries in backoff) stay pending
///    for the next start.
/// 5. Plugins stop, and `run` returns: the process exits 0.
///
/// All of it within the drain deadline (`shutdown_drain_s`, default 10 s). The deadline ends
/// the process at once with status 0, whatever is still running; a second signal ends it at
/// once with 128 + the signal's number (143 for SIGTERM, 130 for SIGINT).
extension Kernel {
    /// How long the server waits for a client to answer its close frame before dropping the
    /// connection: a fraction of the drain, so silent clients cannot use it all.
    var webSocketCloseTimeout: Duration { .milliseconds(Int64(min(5, settings.shutdownDrainSeconds / 4) * 1000)) }

    /// The first signal: steps 1–3, then returns once the plugins have drained.
    func beginShutdown(after signo: Int32, server: ServiceGroup, signals: SignalListener) async {
        let drain = settings.shutdownDrainSeconds
        logger.notice("\(SignalListener.name(signo)): shutting down, draining for up to \(drain) s (a second signal stops at once)")
        armDeadline(after: drain, signals: signals)
        scheduler.cancelAll()
        // Each plugin on a thread of its own: handing work back may wait for a worker thread.
        let pluginsDrained = Task { [plugins, handlers, jobs, mailer] in
            await withTaskGroup(of: Void.self) { group in
                // The kernel's job workers: told to stop, given a part of the drain to finish, then
                // what they still hold goes back to the queue with the attempt unspent.
                group.addTask { await handlers.runWaiting { jobs.drain(within: min(5, drain / 3)) } }
                for plugin in plugins.running { group.addTask { await handlers.runWaiting { plugin.drain() } } }
                // Mail already handed over (a reset link just asked for) goes out if it can.
                if let mailer { group.addTask { await handlers.runWaiting { mailer.finish(timeout: .now() + min(5, drain / 3)) } } }
            }
        }
        // The sockets before the server: once the server's own shutdown begins, the WebSocket
        // library closes what is still open as a normal closure, not as going away.
        stream.closeAll()
        await stream.waitUntilAllClosed(timeout: webSocketCloseTimeout)
        await server.triggerGracefulShutdown()
        await pluginsDrained.value
    }

    /// After the server stopped: step 4 and 5.
    func finishShutdown(dispatcher: Task<Void, Never>) async {
        events.finishWhenIdle()
        await dispatcher.value
        jobMaintenance.stop()
        outboxTail?.stop()
        plugins.stopAll()
        let pending = (try? events.pendingDeliveries()) ?? 0
        logger.notice("shut down cleanly\(pending > 0 ? "; \(pending) deliveries stay pending for the next start" : "")")
    }

    /// The deadline or a second signal ends the process, whatever is still running. Both run
    /// on Dispatch's threads, not in tasks: a drain that keeps the cooperative pool's few
    /// threads busy must not delay the one thing that ends it.
    private func armDeadline(after seconds: Double, signals: SignalListener) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            stopNow(status: 0, because: "the \(seconds) s drain deadline passed")
        }
        signals.onSignal { [self] signo in
            stopNow(status: 128 + signo, because: "a second signal (\(SignalListener.name(signo))) arrived")
        }
    }

    /// Logs why, then ends the process without running exit handlers: they would tear down
    /// state other threads are still using, and the database is safe (WAL) without them.
    private func stopNow(status: Int32, because reason: String) -> Never {
        let pending = (try? events.pendingDeliveries()).map { "\($0) deliveries stay pending for the next start" } ?? "the outbox could not be read"
        logger.warning("\(reason): exiting now with \(stream.connectionCount) WebSocket(s) still open; \(pending)")
        fflush(nil)
        _exit(status)
    }
}

import Foundation
import Hummingbird
import HummingbirdWebSocket
import ServiceLifecycle
import Son1kPluginKit

extension Kernel {
    /// Serve HTTP until SIGTERM or SIGINT, then shut down gracefully (see Kernel+Shutdown) and
    /// return. `onListening` receives the URL once the socket is bound (with port 0 the system
    /// picks a free port).
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        // Listening before serving, so a signal during start-up is kept rather than lost.
        let signals = SignalListener([SIGTERM, SIGINT])
        let app = Application(
            responder: KernelResponder(kernel: self, router: router),
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(closeTimeout: webSocketCloseTimeout))) { [self] request, _, _ in
                try await self.webSocketUpgrade(request)
            },
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "son1k"),
            onServerRunning: { [settings] channel in
                let port = channel.localAddress?.port ?? settings.port
                onListening("http://\(settings.host):\(port)")
            },
            logger: logger
        )
        // No signals of its own: the shutdown decides when and in which order the server stops.
        let server = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let dispatcher = Task { [events, handlers] in await events.runDispatcher(queue: handlers.queue) }
        jobMaintenance.start()
        outboxTail?.start()
        let shutdown = Task { [self] in
            guard let signal = await signals.next() else { return }
            await beginShutdown(after: signal, server: server, signals: signals)
        }
        do {
            // Every connection task inherits this preference: handlers start on blocking-safe threads.
            try await withTaskExecutorPreference(handlers) { try await server.run() }
        } catch {
            shutdown.cancel()
            dispatcher.cancel()
            scheduler.cancelAll()
            jobs.drain(within: 1)
            jobMaintenance.stop()
            outboxTail?.stop()
            plugins.stopAll()
            throw error
        }
        // The server stops only when the shutdown told it to; every connection is closed now.
        await shutdown.value
        await finishShutdown(dispatcher: dispatcher)
    }

    /// `GET /api/events/ws`: a user's committed actions, one JSON text message each, until
    /// either side closes. At shutdown the kernel ends the stream and the socket closes with
    /// 1001 (going away), which tells a client to reconnect, to this server or another.
    func webSocketUpgrade(_ request: HTTPRequest) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard request.path?.split(separator: "?").first == "/api/events/ws" else { return .dontUpgrade }
        var header = request.headerFields[.authorization]
        if header == nil, let query = request.path?.split(separator: "?", maxSplits: 1).dropFirst().first {
            let token = Son1kPluginKit.Request(method: "GET", path: "", rawQuery: String(query)).query("token")
            header = token.map { "Bearer \($0)" }
        }
        let credentials = header
        let principal = try await handlers.run { [self] in try authenticate(credentials).0 }
        // Without a user the request falls through to the route, which answers 401.
        guard let principal, principal.role == "user" || principal.role == "admin" else { return .dontUpgrade }
        return .upgrade([:]) { [stream] inbound, outbound, _ in
            let (id, events) = stream.subscribe(userID: principal.id)
            defer { stream.cancel(id) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for try await _ in inbound {} }
                group.addTask {
                    for await text in events { try await outbound.write(.text(text)) }
                    // The stream ends by itself only at shutdown; a socket the client closed
                    // cancels this task first.
                    if !Task.isCancelled {
                        try await outbound.close(.goingAway, reason: "The server is shutting down; reconnect shortly.")
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
}

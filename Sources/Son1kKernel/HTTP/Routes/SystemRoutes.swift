import Foundation
import Son1kPluginKit

extension KernelRoutes {
    var systemRoutes: [RouteTarget] {
        [
            route("GET", "/health", .public, "Liveness: the process answers", response: JSONSchema.of(Liveness.self, for: .response),
                  inline: true) { _ in
                // Written once: this is the route load balancers poll, and the native baseline of the benchmarks.
                Response(status: 200, headers: [("Content-Type", "application/json")], body: Liveness.ok)
            },
            route("GET", "/ready", .public, "Readiness: the database answers and plugins are loaded",
                  description: "503 while the database cannot be queried.") { [unowned self] _ in
                _ = try kernel.storage.query("SELECT 1 AS ok", [])
                var counts: [String: JSONValue] = [:]
                for p in kernel.plugins.plugins { counts[p.status.name] = .number((counts[p.status.name]?.double ?? 0) + 1) }
                return try .json(["status": "ready", "plugins": .object(counts)] as JSONValue)
            },
            route("GET", "/metrics", .public, "Prometheus metrics", produces: "text/plain; version=0.0.4", inline: true) { [unowned self] _ in
                var text = kernel.metrics.render()
                text += "# TYPE son1k_plugins gauge\n"
                for p in kernel.plugins.plugins { text += "son1k_plugins{plugin=\"\(p.name)\",state=\"\(p.status.name)\"} 1\n" }
                text += "# TYPE son1k_websocket_connections gauge\nson1k_websocket_connections \(kernel.stream.connectionCount)\n"
                return Response(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array(text.utf8))
            },
            route("GET", "/openapi.json", .public, "The OpenAPI 3.1 description of every route served", inline: true) { [unowned self] _ in
                Response(status: 200, headers: [("Content-Type", "application/json")], body: OpenAPIDocument.build(kernel).bytes)
            },
            route("GET", "/docs", .public, "Readable API documentation (HTML)", produces: "text/html; charset=utf-8", inline: true) { [unowned self] _ in
                Response(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(DocsPage.render(OpenAPIDocument.build(kernel)).utf8))
            },
            route("GET", "/api/plugins", .public, "Every plugin of this deployment with its state",
                  description: "State is running, disabled or failed; `reason` says why a plugin is not running.", inline: true) { [unowned self] _ in
                try .json(["plugins": .array(kernel.plugins.report())] as JSONValue)
            },
            route("GET", "/api/events/ws", .user, "Stream my events over a WebSocket",
                  description: "Upgrade to a WebSocket with `Authorization: Bearer …` or `?token=…`. Each committed action concerning the user arrives as a JSON text message `{id, topic, kind, occurred_at, user_id, data}`.") { _ in
                throw PluginError(status: 426, code: "upgrade_required", detail: "Connect with a WebSocket client (Upgrade: websocket).",
                                  headers: ["Upgrade": "websocket"])
            },
        ]
    }
}

/// What `GET /health` answers: `{"status": "ok"}` while the process serves.
struct Liveness: Codable, Sendable {
    var status: String

    static let ok = (try? JSONValueEncoder.encode(Liveness(status: "ok")).bytes) ?? Array(#"{"status":"ok"}"#.utf8)
}

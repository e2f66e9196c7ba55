import Foundation
import Son1kPluginKit

extension KernelRoutes {
    struct RoleChange: Codable, SchemaRules {
        var role: String
        static let schemaRules: [FieldRule] = [.oneOf("role", ["user", "admin"])]
    }
    struct TokenRequest: Codable, SchemaRules {
        var name: String
        var role: String
        /// For a `user` token: whose.
        var userId: String?
        static let schemaRules: [FieldRule] = [.oneOf("role", ["user", "admin", "worker"])]
    }

    var adminRoutes: [RouteTarget] {
        [
            route("GET", "/api/admin/users", .admin, "List users (cursor pagination)", response: JSONSchema.of(UserPage.self, for: .response)) { [unowned self] req in
                let limit = try req.pageLimit()
                let page = pageOf(try kernel.identity.users(limit: limit + 1, after: req.query("cursor")), limit: limit, id: \.id)
                return try .json(UserPage(items: page.items, nextCursor: page.next))
            },
            route("PATCH", "/api/admin/users/{user_id}", .admin, "Change a user's role",
                  request: JSONSchema.of(RoleChange.self), response: JSONSchema.of(User.self, for: .response)) { [unowned self] req in
                let change = try req.decode(RoleChange.self)
                return try .json(try kernel.identity.setRole(userID: req.param("user_id"), role: change.role))
            },
            route("POST", "/api/admin/tokens", .admin, "Create an API token (shown once)",
                  description: "Roles: `worker` (external workers), `admin` (services), `user` (needs `user_id`).",
                  request: JSONSchema.of(TokenRequest.self), status: 201) { [unowned self] req in
                let input = try req.decode(TokenRequest.self)
                return try .json(try kernel.identity.createToken(name: input.name, role: input.role, userID: input.userId), status: 201)
            },
            route("GET", "/api/admin/events", .admin, "Action deliveries, newest first",
                  description: "Filter with `status` (pending, delivered, dead) and `topic`; page with `limit` and `cursor`.") { [unowned self] req in
                try .json(try deliveries(req))
            },
            route("GET", "/api/admin/queues", .admin, "Job queues: depth by state, running jobs, latest failures",
                  description: "Every queue the running plugins declare (and any with jobs left), with counts by state, how many queued jobs are due now, the kernel's worker threads per queue, up to 100 running jobs (oldest lease first) and the 50 latest failures.",
                  response: JSONSchema.of(QueueOverview.self, for: .response)) { [unowned self] _ in
                let declared = kernel.plugins.running.flatMap { p in Set((p.manifest?.jobs ?? []).map(\.queue)).map { (p.name, $0) } }
                return try .json(try QueueOverview.read(kernel.jobs, declared: declared))
            },
            route("POST", "/api/admin/events/{id}/retry", .admin, "Retry an event's dead-lettered deliveries") { [unowned self] req in
                let count = try kernel.events.requeue(eventID: req.param("id"))
                guard count > 0 else { throw PluginError.notFound("Event \(req.param("id")) has no dead deliveries.", code: "nothing_to_retry") }
                return try .json(["requeued": .number(Double(count))] as JSONValue)
            },
        ]
    }

    func deliveries(_ req: Request) throws -> JSONValue {
        let limit = try req.pageLimit()
        var conditions: [String] = []
        var params: [SQLValue] = []
        if let status = req.query("status") {
            guard ["pending", "delivered", "dead"].contains(status) else { throw PluginError.invalid("status", "must be pending, delivered or dead.") }
            conditions.append("d.status = ?")
            params.append(.text(status))
        }
        if let topic = req.query("topic") {
            conditions.append("e.topic = ?")
            params.append(.text(topic))
        }
        if let cursor = req.query("cursor") {
            let parts = cursor.split(separator: "~", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw PluginError.invalid("cursor", "is not a cursor this endpoint returned.") }
            conditions.append("(d.event_id < ? OR (d.event_id = ? AND d.subscriber < ?))")
            params += [.text(parts[0]), .text(parts[0]), .text(parts[1])]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try kernel.storage.query("""
            SELECT d.event_id, d.subscriber, d.status, d.attempts, d.last_error, d.delivered_at, d.next_attempt_at,
                   e.topic, e.publisher, e.user_id, e.occurred_at
            FROM kernel_deliveries d JOIN kernel_events e ON e.id = d.event_id
            \(whereClause) ORDER BY d.event_id DESC, d.subscriber DESC LIMIT ?
            """, params + [.int(Int64(limit + 1))])
        let page = rows.prefix(limit)
        let next: JSONValue = rows.count > limit ? .string("\(page.last!["event_id"]?.string ?? "")~\(page.last!["subscriber"]?.string ?? "")") : .null
        return ["items": .array(page.map { .object($0) }), "next_cursor": next]
    }
}

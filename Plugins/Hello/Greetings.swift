import Foundation
import Son1kContracts
import Son1kPluginKit

/// The greeting rules, kept apart from HTTP so they read (and test) on their own.
enum Greetings {
    struct Create: Codable, SchemaRules {
        var name: String
        static let schemaRules: [FieldRule] = [.length("name", 1...100), .describe("name", "Who is greeted (1–100 characters).")]
    }

    struct Greeting: Codable {
        var id: Int
        var name: String
        var message: String
        var createdAt: String
    }

    struct Page: Codable {
        var items: [Greeting]
        var nextCursor: String?
    }

    /// Insert a greeting and announce it, atomically: if a `hello.before_greet` subscriber
    /// vetoes, the insert is rolled back and the veto becomes the response.
    static func create(name: String, for userID: String, _ ctx: Context<HelloPlugin.Config>) throws -> Greeting {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(trimmed.count) else { throw PluginError.invalid("name", "must be 1 to 100 characters.") }
        return try ctx.db.transaction { tx in
            let created = ctx.now.iso8601
            let row = try tx.exec("INSERT INTO hello_greetings (user_id, name, message, created_at) VALUES (?, ?, '', ?)",
                                  [.text(userID), .text(trimmed), .text(created)])
            let hooked = try ctx.publishHook(.helloBeforeGreet, GreetingDraft(id: Int(row.lastInsertId), name: trimmed), userID: userID, in: tx)
            let finalName = hooked.name
            let message = "\(ctx.config.greeting), \(finalName)!"
            try tx.exec("UPDATE hello_greetings SET name = ?, message = ? WHERE id = ?", [.text(finalName), .text(message), .int(row.lastInsertId)])
            let greeting = Greeting(id: Int(row.lastInsertId), name: finalName, message: message, createdAt: created)
            try ctx.publishAction(.helloGreeted, Greeted(id: greeting.id, name: finalName, message: message, createdAt: created), userID: userID, in: tx)
            return greeting
        }
    }

    static func list(for userID: String, limit size: Int, cursor: String?, _ ctx: Context<HelloPlugin.Config>) throws -> Page {
        let before = try cursor.map { raw -> Int in
            guard let n = Int(raw) else { throw PluginError.invalid("cursor", "is not a cursor this endpoint returned.") }
            return n
        } ?? Int.max
        let rows = try ctx.db.query(Greeting.self,
            "SELECT id, name, message, created_at FROM hello_greetings WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            [.text(userID), .int(Int64(before)), .int(Int64(size + 1))])
        let items = Array(rows.prefix(size))
        return Page(items: items, nextCursor: rows.count > size ? items.last.map { String($0.id) } : nil)
    }
}

import Foundation
import Son1kPluginKit

/// The lyric studio's drafts: each change is a new version, the old ones kept. Drafts are
/// private: any other user — an admin too — gets 404, as if it did not exist.
struct Drafts {
    let ctx: Context<LyricsPlugin.Config>

    func create(for user: String, title: String, sections: [Section], language: String?) throws -> DraftView {
        try Self.check(title: title)
        let id = "draft_" + Crypto.randomToken(12)
        let now = ctx.now
        try ctx.db.transaction { tx in
            try tx.exec("""
                INSERT INTO lyrics_drafts (id, user_id, title, language, sections, version, created_ms, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
                """, [.text(id), .text(user), .text(title), SQLValue(language), .text(Self.encode(sections)), .int(now.epochMs),
                      .text(now.iso8601), .text(now.iso8601)])
            try record(id, version: 1, title: title, sections: sections, in: tx)
        }
        return try get(id, for: user)
    }

    func update(_ id: String, for user: String, title: String?, sections: [Section]?) throws -> DraftView {
        try title.map(Self.check(title:))
        try ctx.db.transaction { tx in
            guard let row = try tx.queryOne(Row.self, "SELECT \(Self.columns) FROM lyrics_drafts WHERE id = ? AND user_id = ?", [.text(id), .text(user)]) else {
                throw Self.notFound(id)
            }
            let newTitle = title ?? row.title
            let newSections = try sections ?? row.decodedSections()
            let version = row.version + 1
            try tx.exec("UPDATE lyrics_drafts SET title = ?, sections = ?, version = ?, updated_at = ? WHERE id = ?",
                        [.text(newTitle), .text(Self.encode(newSections)), .int(Int64(version)), .text(ctx.now.iso8601), .text(id)])
            try record(id, version: version, title: newTitle, sections: newSections, in: tx)
        }
        return try get(id, for: user)
    }

    func delete(_ id: String, for user: String) throws {
        try ctx.db.transaction { tx in
            guard try tx.exec("DELETE FROM lyrics_drafts WHERE id = ? AND user_id = ?", [.text(id), .text(user)]).changes == 1 else { throw Self.notFound(id) }
            try tx.exec("DELETE FROM lyrics_draft_versions WHERE draft_id = ?", [.text(id)])
        }
    }

    func get(_ id: String, for user: String) throws -> DraftView {
        guard let row = try ctx.db.queryOne(Row.self, "SELECT \(Self.columns) FROM lyrics_drafts WHERE id = ? AND user_id = ?", [.text(id), .text(user)]) else {
            throw Self.notFound(id)
        }
        return try row.view()
    }

    /// Newest first; `cursor` is the previous page's `next_cursor`.
    func list(for user: String, limit: Int, cursor: String?) throws -> DraftPage {
        var sql = "SELECT \(Self.columns) FROM lyrics_drafts WHERE user_id = ?"
        var params: [SQLValue] = [.text(user)]
        if let cursor {
            let key = try PageCursor.decode(cursor, count: 2)
            guard let ms = key[0].double, let after = key[1].string else { throw PluginError.invalid("cursor", "is not a cursor this list gave out.") }
            sql += " AND (created_ms < ? OR (created_ms = ? AND id < ?))"
            params += [.int(Int64(ms)), .int(Int64(ms)), .text(after)]
        }
        params.append(.int(Int64(limit + 1)))
        let rows = try ctx.db.query(Row.self, sql + " ORDER BY created_ms DESC, id DESC LIMIT ?", params)
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { PageCursor.encode([.integer($0.createdMs), .string($0.id)]) } : nil
        return DraftPage(data: try shown.map { try $0.view() }, nextCursor: next)
    }

    func versions(_ id: String, for user: String) throws -> DraftVersions {
        _ = try get(id, for: user)
        struct VersionRow: Decodable { var version: Int; var title: String; var sections: String; var createdAt: Date }
        let rows = try ctx.db.query(VersionRow.self, "SELECT version, title, sections, created_at FROM lyrics_draft_versions WHERE draft_id = ? ORDER BY version DESC",
                                    [.text(id)])
        return DraftVersions(draftId: id, data: try rows.map { row in
            .init(version: row.version, title: row.title, sections: try Row.sections(row.sections), createdAt: row.createdAt)
        })
    }

    /// The draft as plain text with section headers, for a music engine.
    func text(_ id: String, for user: String) throws -> (title: String, text: String) {
        let draft = try get(id, for: user)
        return (draft.title, Section.text(draft.sections))
    }

    private func record(_ id: String, version: Int, title: String, sections: [Section], in tx: Database) throws {
        try tx.exec("INSERT INTO lyrics_draft_versions (draft_id, version, title, sections, created_at) VALUES (?, ?, ?, ?, ?)",
                    [.text(id), .int(Int64(version)), .text(title), .text(Self.encode(sections)), .text(ctx.now.iso8601)])
    }

    static let columns = "id, title, language, sections, version, created_ms, created_at, updated_at"

    /// A row of `lyrics_drafts`.
    struct Row: Decodable {
        var id: String
        var title: String
        var language: String?
        var sections: String
        var version: Int
        var createdMs: Int64
        var createdAt: Date
        var updatedAt: Date

        func decodedSections() throws -> [Section] { try Self.sections(sections) }

        func view() throws -> DraftView {
            DraftView(id: id, title: title, language: language, version: version, sections: try decodedSections(),
                      createdAt: createdAt, updatedAt: updatedAt)
        }

        static func sections(_ text: String) throws -> [Section] {
            try JSONValueDecoder.decode([Section].self, from: JSONValue.parse(Array(text.utf8)))
        }
    }

    static func encode(_ sections: [Section]) -> String { JSONValue.array(sections.map(\.json)).jsonString }

    static func check(title: String) throws {
        guard (1...200).contains(title.trimmingCharacters(in: .whitespaces).count) else {
            throw PluginError.invalid("title", "must be 1 to 200 characters.")
        }
    }

    static func notFound(_ id: String) -> PluginError {
        PluginError.notFound("You have no draft \(id).", code: "draft_not_found")
    }
}

import Foundation

/// The portable SQL that plugins write (SQLite's spelling, `?` placeholders), as PostgreSQL
/// reads it.
///
/// Plugins write one dialect: the subset SQLite and PostgreSQL share, documented in
/// docs/PLUGINS.md. What differs only in spelling is translated here, so the same migration
/// and the same statement run on both backends:
///
/// - `?` placeholders become `$1`, `$2`, … (never inside a string, a quoted name or a comment);
/// - a script of several statements is split at its top-level semicolons (PostgreSQL's
///   extended protocol takes one statement at a time);
/// - in `CREATE TABLE` and `ALTER TABLE`, SQLite's 64-bit `INTEGER`/`INT` become `BIGINT`,
///   `REAL` (a double in SQLite) becomes `DOUBLE PRECISION`, `BLOB` becomes `BYTEA`, and
///   `INTEGER PRIMARY KEY [AUTOINCREMENT]` — SQLite's auto-assigned row id — becomes an
///   identity column.
///
/// Anything else is passed through unchanged, so a statement outside the subset fails with
/// PostgreSQL's own error rather than being silently rewritten.
package enum PostgresSQL {
    /// A translated statement.
    package struct Statement: Equatable, Sendable {
        package var sql: String
        var parameterCount: Int
        /// The first keyword, upper-cased (`INSERT`, `SELECT`, `CREATE`…).
        var verb: String
        /// For an `INSERT`: the table written to, and whether the statement already says
        /// `RETURNING`.
        var insertTable: String?
        var returns: Bool
    }

    /// Translate `sql`, which may hold several statements; empty statements are dropped.
    package static func translate(_ sql: String) -> [Statement] {
        split(tokens(sql)).compactMap(statement)
    }

    // MARK: - Lexing

    enum Kind: Equatable { case word, string, quotedName, comment, space, placeholder, semicolon, other }

    struct Token: Equatable {
        var kind: Kind
        var text: Substring
    }

    static func tokens(_ sql: String) -> [Token] {
        var out: [Token] = []
        var i = sql.startIndex
        func isWordChar(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber || c == "$" }
        while i < sql.endIndex {
            let c = sql[i]
            let next = sql.index(after: i)
            let start = i
            let kind: Kind
            if c == "-", next < sql.endIndex, sql[next] == "-" {
                i = sql[i...].firstIndex(of: "\n") ?? sql.endIndex
                kind = .comment
            } else if c == "/", next < sql.endIndex, sql[next] == "*" {
                i = sql[sql.index(after: next)...].range(of: "*/")?.upperBound ?? sql.endIndex
                kind = .comment
            } else if c == "'" || c == "\"" {
                // A quote closes the run unless doubled ('it''s', "a""b").
                i = next
                while i < sql.endIndex {
                    if sql[i] == c {
                        let after = sql.index(after: i)
                        if after < sql.endIndex, sql[after] == c { i = sql.index(after: after); continue }
                        i = after
                        break
                    }
                    i = sql.index(after: i)
                }
                kind = c == "'" ? .string : .quotedName
            } else if c == "?" {
                i = next
                kind = .placeholder
            } else if c == ";" {
                i = next
                kind = .semicolon
            } else if c.isWhitespace {
                while i < sql.endIndex, sql[i].isWhitespace { i = sql.index(after: i) }
                kind = .space
            } else if isWordChar(c) {
                while i < sql.endIndex, isWordChar(sql[i]) { i = sql.index(after: i) }
                kind = .word
            } else {
                i = next
                kind = .other
            }
            out.append(Token(kind: kind, text: sql[start..<i]))
        }
        return out
    }

    static func split(_ tokens: [Token]) -> [[Token]] {
        var statements: [[Token]] = [[]]
        for token in tokens {
            if token.kind == .semicolon { statements.append([]) } else { statements[statements.count - 1].append(token) }
        }
        return statements
    }

    // MARK: - Rewriting

    private static let columnTypes: [String: String] = ["INTEGER": "BIGINT", "INT": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"]

    static func statement(_ tokens: [Token]) -> Statement? {
        let words = tokens.indices.filter { tokens[$0].kind == .word }
        guard let first = words.first else { return nil }
        let verb = tokens[first].text.uppercased()
        let isDDL = (verb == "CREATE" || verb == "ALTER") && words.count > 1 && tokens[words[1]].text.uppercased() == "TABLE"
        var out = ""
        out.reserveCapacity(tokens.reduce(0) { $0 + $1.text.utf8.count } + 16)
        var parameters = 0
        var index = 0
        /// The next word after token `i`, and its index.
        func word(after i: Int) -> (String, Int)? {
            var j = i + 1
            while j < tokens.count, tokens[j].kind == .space || tokens[j].kind == .comment { j += 1 }
            guard j < tokens.count, tokens[j].kind == .word else { return nil }
            return (tokens[j].text.uppercased(), j)
        }
        while index < tokens.count {
            let token = tokens[index]
            switch token.kind {
            case .placeholder:
                parameters += 1
                out += "$\(parameters)"
            case .word where isDDL:
                let upper = token.text.uppercased()
                if upper == "INTEGER", let (p, pi) = word(after: index), p == "PRIMARY", let (k, ki) = word(after: pi), k == "KEY" {
                    out += "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                    index = ki
                    if let (a, ai) = word(after: ki), a == "AUTOINCREMENT" { index = ai }
                } else if let mapped = columnTypes[upper] {
                    out += mapped
                } else if upper == "AUTOINCREMENT" {
                    // Only meaningful after INTEGER PRIMARY KEY, handled above.
                } else {
                    out += token.text
                }
            default:
                out += token.text
            }
            index += 1
        }
        var insertTable: String?
        if verb == "INSERT", let (into, intoIndex) = word(after: first), into == "INTO", intoIndex + 1 < tokens.count {
            var j = intoIndex + 1
            while j < tokens.count, tokens[j].kind == .space { j += 1 }
            if j < tokens.count, tokens[j].kind == .word || tokens[j].kind == .quotedName { insertTable = String(tokens[j].text) }
        }
        let returns = words.contains { tokens[$0].text.uppercased() == "RETURNING" }
        let trimmed = out.trimmingCharacters(in: .whitespacesAndNewlines)
        return Statement(sql: trimmed, parameterCount: parameters, verb: verb, insertTable: insertTable, returns: returns)
    }
}

import Synchronization

/// Enforces that a plugin's SQL touches only tables (and indexes and views) whose names
/// start with the plugin's prefix, e.g. `tiers_`.
///
/// It reads the statement's tokens (skipping string literals and comments) and checks every
/// name that follows FROM, JOIN, INTO, UPDATE, TABLE, INDEX … ON, VIEW and REFERENCES,
/// plus RENAME TO. Names a statement defines itself (`WITH name AS (…)`) and table-valued
/// functions (`FROM json_each(…)`) are allowed. Statements outside the portable subset
/// that could escape the prefix (ATTACH, DETACH, PRAGMA, VACUUM, CREATE TRIGGER) are refused.
package struct TablePrefixGuard: Sendable {
    package let prefix: String

    package init(pluginName: String) { prefix = pluginName + "_" }

    /// Nil when the SQL is allowed, otherwise the reason it is not.
    package func violation(in sql: String) -> String? {
        let tokens = SQLTokenizer.tokens(sql)
        let upper = tokens.map { $0.isIdentifier ? $0.text.uppercased() : $0.text }
        var cteNames = Set<String>()
        var i = 0

        func isKeyword(_ index: Int, _ words: Set<String>) -> Bool {
            index < tokens.count && !tokens[index].quoted && words.contains(upper[index])
        }
        func skipIfExists(_ j: inout Int) {
            if isKeyword(j, ["IF"]) { j += isKeyword(j + 1, ["NOT"]) ? 3 : 2 }
        }
        func check(_ j: Int) -> String? {
            guard j < tokens.count, tokens[j].isIdentifier else { return nil }
            let name = tokens[j].text
            if j + 1 < tokens.count, tokens[j + 1].text == "." {
                return "\"\(name).\(j + 2 < tokens.count ? tokens[j + 2].text : "")\": schema-qualified names are not allowed; use tables named \(prefix)…"
            }
            if cteNames.contains(name.lowercased()) || name.lowercased().hasPrefix(prefix) { return nil }
            return "table \"\(name)\" does not start with \"\(prefix)\": a plugin may only use its own tables"
        }

        while i < tokens.count {
            let t = upper[i]
            guard tokens[i].isIdentifier, !tokens[i].quoted else { i += 1; continue }
            switch t {
            case "ATTACH", "DETACH", "PRAGMA", "VACUUM", "TRIGGER":
                return "\(t) statements are not allowed in plugin SQL"
            case "WITH":
                var j = i + 1
                if isKeyword(j, ["RECURSIVE"]) { j += 1 }
                while j < tokens.count, tokens[j].isIdentifier {
                    cteNames.insert(tokens[j].text.lowercased())
                    // Skip to the matching parenthesis of `AS (…)`, then a comma continues the list.
                    var depth = 0
                    j += 1
                    while j < tokens.count {
                        if tokens[j].text == "(" { depth += 1 }
                        if tokens[j].text == ")" { depth -= 1; if depth == 0 { break } }
                        j += 1
                    }
                    if j + 1 < tokens.count, tokens[j + 1].text == "," { j += 2 } else { break }
                }
                i += 1
            case "FROM", "JOIN":
                var j = i + 1
                while j < tokens.count {
                    if tokens[j].text == "(" { break }  // a subquery
                    guard tokens[j].isIdentifier else { break }
                    if j + 1 < tokens.count, tokens[j + 1].text == "(" { j += 1; break }  // table-valued function
                    if let v = check(j) { return v }
                    j += 1
                    if isKeyword(j, ["AS"]) { j += 2 } else if j < tokens.count, tokens[j].isIdentifier, !SQLTokenizer.clauseKeywords.contains(upper[j]) { j += 1 }
                    guard t == "FROM", j < tokens.count, tokens[j].text == "," else { break }
                    j += 1
                }
                i = j
            case "INTO", "REFERENCES", "TABLE", "VIEW":
                var j = i + 1
                skipIfExists(&j)
                if let v = check(j) { return v }
                i = j + 1
            case "UPDATE":
                var j = i + 1
                if isKeyword(j, ["OR"]) { j += 2 }
                if !isKeyword(j, ["SET"]), let v = check(j) { return v }
                i = j + 1
            case "INDEX":
                var j = i + 1
                skipIfExists(&j)
                if let v = check(j) { return v }
                if isKeyword(j + 1, ["ON"]), let v = check(j + 2) { return v }
                i = j + 1
            case "RENAME":
                var j = i + 1
                if isKeyword(j, ["TO"]) { j += 1; if let v = check(j) { return v } }
                i = j + 1
            default:
                i += 1
            }
        }
        return nil
    }
}

/// A minimal SQL lexer: identifiers (bare or quoted), punctuation, and nothing else —
/// string literals, numbers and comments are dropped.
enum SQLTokenizer {
    struct Token {
        var text: String
        var isIdentifier: Bool
        var quoted: Bool
    }

    static let clauseKeywords: Set<String> = [
        "WHERE", "GROUP", "ORDER", "LIMIT", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "CROSS", "NATURAL", "FULL",
        "ON", "USING", "SET", "VALUES", "UNION", "EXCEPT", "INTERSECT", "HAVING", "WINDOW", "RETURNING", "DEFAULT",
        "SELECT", "AS", "DO", "OFFSET", "FOR",
    ]

    static func tokens(_ sql: String) -> [Token] {
        let chars = Array(sql.unicodeScalars)
        var out: [Token] = []
        var i = 0
        func isIdentChar(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "$" || c.properties.isAlphabetic || ("0"..."9").contains(c) }
        while i < chars.count {
            let c = chars[i]
            if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                i += 2
                while i + 1 < chars.count, !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                i += 2
            } else if c == "'" {
                i += 1
                while i < chars.count {
                    if chars[i] == "'" { if i + 1 < chars.count, chars[i + 1] == "'" { i += 2; continue }; break }
                    i += 1
                }
                i += 1
            } else if c == "\"" || c == "`" || c == "[" {
                let close: Unicode.Scalar = c == "[" ? "]" : c
                var text = ""
                i += 1
                while i < chars.count, chars[i] != close { text.unicodeScalars.append(chars[i]); i += 1 }
                i += 1
                out.append(Token(text: text, isIdentifier: true, quoted: true))
            } else if ("0"..."9").contains(c) {
                while i < chars.count, isIdentChar(chars[i]) || chars[i] == "." { i += 1 }
            } else if isIdentChar(c) {
                var text = ""
                while i < chars.count, isIdentChar(chars[i]) { text.unicodeScalars.append(chars[i]); i += 1 }
                out.append(Token(text: text, isIdentifier: true, quoted: false))
            } else if c == " " || c == "\n" || c == "\t" || c == "\r" {
                i += 1
            } else {
                out.append(Token(text: String(c), isIdentifier: false, quoted: false))
                i += 1
            }
        }
        return out
    }
}

/// A ``TablePrefixGuard`` that remembers its verdicts. Plugins send the same statements over
/// and over (the SQL is fixed at each call site; values travel as parameters), and tokenising
/// costs more than running a simple query, so each distinct text is checked once. The memory
/// is bounded: past `capacity` texts, new ones are checked every time.
package final class CachedPrefixGuard: Sendable {
    package let rules: TablePrefixGuard
    private let verdicts = Mutex<[String: String?]>([:])
    private let capacity: Int

    package init(_ rules: TablePrefixGuard, capacity: Int = 4096) {
        self.rules = rules
        self.capacity = capacity
    }

    package func violation(in sql: String) -> String? {
        if let known = verdicts.withLock({ $0[sql] }) { return known }
        let verdict = rules.violation(in: sql)
        verdicts.withLock { if $0.count < capacity { $0[sql] = verdict } }
        return verdict
    }
}


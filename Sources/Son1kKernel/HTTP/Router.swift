import Son1kPluginKit

/// Matches `(method, path)` to a route, telling "no such path" (404) apart from "path
/// exists, other methods" (405 with `Allow`), and detects two owners claiming the same
/// route (same method and the same path shape, whatever the parameter names).
///
/// Literal segments win over parameters: `/api/users/me` beats `/api/users/{user_id}`.
public struct Router<Target: Sendable>: Sendable {
    public struct Match: Sendable {
        public var target: Target
        public var params: [(String, String)]
        public var pattern: String
    }

    public enum Resolution: Sendable {
        case found(Match)
        case methodNotAllowed(allow: [String])
        case notFound
    }

    struct Entry: Sendable {
        var method: String
        var pattern: String
        var segments: [Segment]
        var owner: String
        var target: Target
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case param(String)
        var shape: String { if case .literal(let s) = self { return s }; return "{}" }
    }

    /// Two owners claiming one route.
    public struct Conflict: Error, CustomStringConvertible {
        public let method: String
        public let path: String
        public let owners: (String, String)
        public var description: String {
            "route conflict: \(method) \(path) is claimed by both \(owners.0) and \(owners.1)"
        }
    }

    private var entries: [Entry] = []
    private var byShape: [String: Int] = [:]

    public init() {}

    /// Add a route; throws ``Conflict`` naming both owners when the shape is taken.
    public mutating func add(method: String, path: String, owner: String, target: Target) throws {
        let segments = Self.segments(path)
        let key = method + " " + segments.map(\.shape).joined(separator: "/")
        if let existing = byShape[key] {
            throw Conflict(method: method, path: path, owners: (entries[existing].owner, owner))
        }
        byShape[key] = entries.count
        entries.append(Entry(method: method, pattern: path, segments: segments, owner: owner, target: target))
    }

    public func resolve(method: String, path: String) -> Resolution {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (entry: Entry, params: [(String, String)], score: Int)?
        var allowed = Set<String>()
        for entry in entries where entry.segments.count == parts.count {
            var params: [(String, String)] = []
            var score = 0
            var ok = true
            for (seg, part) in zip(entry.segments, parts) {
                switch seg {
                case .literal(let s): if s != part { ok = false } else { score = score * 2 + 1 }
                case .param(let name):
                    let raw = String(part)
                    params.append((name, raw.contains("%") ? raw.removingPercentEncoding ?? raw : raw))
                    score *= 2
                }
                if !ok { break }
            }
            guard ok else { continue }
            allowed.insert(entry.method)
            if entry.method == "GET" { allowed.insert("HEAD") }
            let methodMatches = entry.method == method || (method == "HEAD" && entry.method == "GET")
            if methodMatches, best == nil || score > best!.score { best = (entry, params, score) }
        }
        if let best { return .found(Match(target: best.entry.target, params: best.params, pattern: best.entry.pattern)) }
        if !allowed.isEmpty { return .methodNotAllowed(allow: allowed.sorted()) }
        return .notFound
    }

    /// Every route, for /openapi.json and the boot log.
    public var routes: [(method: String, path: String, owner: String, target: Target)] {
        entries.map { ($0.method, $0.pattern, $0.owner, $0.target) }
    }

    static func segments(_ path: String) -> [Segment] {
        path.split(separator: "/").map { part in
            if part.hasPrefix("{"), part.hasSuffix("}") { return .param(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }
}

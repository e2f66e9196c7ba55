import Foundation

/// Matches `(method, path)` to a route, telling "no such path" (404) apart from "path
/// exists, other methods" (405 with `Allow`), and detects two owners claiming the same
/// route (same method and the same path shape, whatever the parameter names).
///
/// Literal segments win over parameters: `/api/users/me` beats `/api/users/{user_id}`.
///
/// Resolving runs on every request. The matching itself works on non-generic data
/// (``RoutePattern``), compiled once here; only the targets are generic. (Generic matching,
/// called from the kernel a module away, looked up type metadata for every candidate route
/// of every request.)
package struct RouteTable<Target: Sendable>: Sendable {
    package struct Match: Sendable {
        package var target: Target
        package var params: [(String, String)]
        package var pattern: String
    }

    package enum Resolution: Sendable {
        case found(Match)
        case methodNotAllowed(allow: [String])
        case notFound
    }

    /// Two owners claiming one route.
    package struct Conflict: Error, CustomStringConvertible {
        package let method: String
        package let path: String
        package let owners: (String, String)
        package var description: String {
            "route conflict: \(method) \(path) is claimed by both \(owners.0) and \(owners.1)"
        }
    }

    private var patterns = RoutePatterns()
    private var targets: [Target] = []

    package init() {}

    /// Add a route; throws ``Conflict`` naming both owners when the shape is taken.
    package mutating func add(method: String, path: String, owner: String, target: Target) throws {
        if let existing = patterns.add(method: method, path: path, owner: owner) {
            throw Conflict(method: method, path: path, owners: (existing, owner))
        }
        targets.append(target)
    }

    package func resolve(method: String, path: String) -> Resolution {
        switch patterns.resolve(method: method, path: path) {
        case .found(let index, let params): .found(Match(target: targets[index], params: params, pattern: patterns.entries[index].pattern))
        case .methodNotAllowed(let allow): .methodNotAllowed(allow: allow)
        case .notFound: .notFound
        }
    }

    /// Every route, for /openapi.json and the boot log.
    package var routes: [(method: String, path: String, owner: String, target: Target)] {
        zip(patterns.entries, targets).map { ($0.method, $0.pattern, $0.owner, $1) }
    }
}

/// The route patterns of a ``RouteTable`` and the matching, by index.
struct RoutePatterns: Sendable {
    struct Entry: Sendable {
        var method: String
        var pattern: String
        var segments: [Segment]
        var owner: String
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case param(String)
        var shape: String { if case .literal(let s) = self { return s }; return "{}" }
    }

    enum Resolution {
        case found(Int, params: [(String, String)])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    private(set) var entries: [Entry] = []
    private var byShape: [String: Int] = [:]
    /// Entry indices by number of path segments: a path is only compared with routes of its length.
    private var byLength: [Int: [Int]] = [:]

    /// Adds a pattern; when its shape is taken, returns the owner holding it and adds nothing.
    mutating func add(method: String, path: String, owner: String) -> String? {
        let segments = Self.segments(path)
        let key = method + " " + segments.map(\.shape).joined(separator: "/")
        if let existing = byShape[key] { return entries[existing].owner }
        byShape[key] = entries.count
        byLength[segments.count, default: []].append(entries.count)
        entries.append(Entry(method: method, pattern: path, segments: segments, owner: owner))
        return nil
    }

    func resolve(method: String, path: String) -> Resolution {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let candidates = byLength[parts.count] else { return .notFound }
        // The most literal matching route wins; parameters are only extracted for it, and the
        // methods for `Allow` only gathered when none matched (every request pays this loop).
        var best = -1
        var bestScore = -1
        for i in candidates {
            let m = entries[i].method
            guard m == method || (method == "HEAD" && m == "GET"),
                  let score = Self.score(entries[i].segments, parts), score > bestScore else { continue }
            best = i
            bestScore = score
        }
        if best >= 0 {
            var params: [(String, String)] = []
            for (seg, part) in zip(entries[best].segments, parts) {
                guard case .param(let name) = seg else { continue }
                let raw = String(part)
                params.append((name, raw.contains("%") ? raw.removingPercentEncoding ?? raw : raw))
            }
            return .found(best, params: params)
        }
        var allowed = Set<String>()
        for i in candidates where Self.score(entries[i].segments, parts) != nil {
            allowed.insert(entries[i].method)
            if entries[i].method == "GET" { allowed.insert("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed.sorted())
    }

    /// How literally `segments` match `parts` (each literal doubles and adds one), or nil.
    private static func score(_ segments: [Segment], _ parts: [Substring]) -> Int? {
        var score = 0
        for (seg, part) in zip(segments, parts) {
            switch seg {
            case .literal(let s):
                guard s == part else { return nil }
                score = score * 2 + 1
            case .param:
                score *= 2
            }
        }
        return score
    }

    static func segments(_ path: String) -> [Segment] {
        path.split(separator: "/").map { part in
            if part.hasPrefix("{"), part.hasSuffix("}") { return .param(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }
}

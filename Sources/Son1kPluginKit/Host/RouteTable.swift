import Foundation

/// Matches `(method, path)` to a route, telling "no such path" (404) apart from "path
/// exists, other methods" (405 with `Allow`), and detects two owners claiming the same
/// route (same method and the same path shape, whatever the parameter names).
///
/// Literal segments win over parameters: `/api/users/me` beats `/api/users/{user_id}`.
///
/// Resolving runs on every request, in the kernel, a module away: the type is `@inlinable`
/// so the kernel's build specialises it for its target type instead of running generic code.
package struct RouteTable<Target: Sendable>: Sendable {
    package struct Match: Sendable {
        package var target: Target
        package var params: [(String, String)]
        package var pattern: String

        @usableFromInline
        init(target: Target, params: [(String, String)], pattern: String) {
            self.target = target
            self.params = params
            self.pattern = pattern
        }
    }

    package enum Resolution: Sendable {
        case found(Match)
        case methodNotAllowed(allow: [String])
        case notFound
    }

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var method: String
        @usableFromInline var pattern: String
        @usableFromInline var segments: [Segment]
        @usableFromInline var owner: String
        @usableFromInline var target: Target
    }

    @usableFromInline
    enum Segment: Sendable, Equatable {
        case literal(String)
        case param(String)
        var shape: String { if case .literal(let s) = self { return s }; return "{}" }
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

    @usableFromInline var entries: [Entry] = []
    private var byShape: [String: Int] = [:]
    /// Entry indices by number of path segments: a path is only compared with routes of its length.
    @usableFromInline var byLength: [Int: [Int]] = [:]

    package init() {}

    /// Add a route; throws ``Conflict`` naming both owners when the shape is taken.
    package mutating func add(method: String, path: String, owner: String, target: Target) throws {
        let segments = Self.segments(path)
        let key = method + " " + segments.map(\.shape).joined(separator: "/")
        if let existing = byShape[key] {
            throw Conflict(method: method, path: path, owners: (entries[existing].owner, owner))
        }
        byShape[key] = entries.count
        byLength[segments.count, default: []].append(entries.count)
        entries.append(Entry(method: method, pattern: path, segments: segments, owner: owner, target: target))
    }

    @inlinable
    package func resolve(method: String, path: String) -> Resolution {
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
            return .found(Match(target: entries[best].target, params: params, pattern: entries[best].pattern))
        }
        var allowed = Set<String>()
        for i in candidates where Self.score(entries[i].segments, parts) != nil {
            allowed.insert(entries[i].method)
            if entries[i].method == "GET" { allowed.insert("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed.sorted())
    }

    /// How literally `segments` match `parts` (each literal doubles and adds one), or nil.
    @inlinable
    static func score(_ segments: [Segment], _ parts: [Substring]) -> Int? {
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

    /// Every route, for /openapi.json and the boot log.
    package var routes: [(method: String, path: String, owner: String, target: Target)] {
        entries.map { ($0.method, $0.pattern, $0.owner, $0.target) }
    }

    static func segments(_ path: String) -> [Segment] {
        path.split(separator: "/").map { part in
            if part.hasPrefix("{"), part.hasSuffix("}") { return .param(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }
}

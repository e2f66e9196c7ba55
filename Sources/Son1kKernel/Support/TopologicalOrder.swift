/// Orders nodes so every `(before, after)` edge is respected, breaking ties with
/// `precedes` (so the result is deterministic). Used for plugin load order (`requires`) and
/// hook subscriber order (`before`/`after`, then priority, then name).
public enum TopologicalOrder {
    public struct Cycle: Error, CustomStringConvertible {
        public let nodes: [String]
        public var description: String { "cycle: " + (nodes + [nodes.first ?? ""]).joined(separator: " → ") }
    }

    public static func sort(_ nodes: [String], edges: [(String, String)], precedes: (String, String) -> Bool) throws -> [String] {
        let known = Set(nodes)
        var incoming: [String: Int] = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        var outgoing: [String: [String]] = [:]
        for (a, b) in edges where known.contains(a) && known.contains(b) && a != b {
            outgoing[a, default: []].append(b)
            incoming[b, default: 0] += 1
        }
        var ready = nodes.filter { incoming[$0] == 0 }.sorted(by: precedes)
        var order: [String] = []
        while !ready.isEmpty {
            let next = ready.removeFirst()
            order.append(next)
            for b in outgoing[next] ?? [] {
                incoming[b]! -= 1
                if incoming[b] == 0 {
                    ready.append(b)
                    ready.sort(by: precedes)
                }
            }
        }
        guard order.count == nodes.count else { throw Cycle(nodes: findCycle(among: nodes.filter { !order.contains($0) }, outgoing)) }
        return order
    }

    static func findCycle(among nodes: [String], _ outgoing: [String: [String]]) -> [String] {
        let candidates = Set(nodes)
        var path: [String] = []
        var current = nodes.sorted().first ?? ""
        while !path.contains(current) {
            path.append(current)
            guard let next = (outgoing[current] ?? []).filter(candidates.contains).sorted().first else { return path }
            current = next
        }
        return Array(path[path.firstIndex(of: current)!...])
    }
}

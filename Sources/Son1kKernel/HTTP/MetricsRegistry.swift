import CSon1kABI
import Foundation
import Synchronization

/// Counters, gauges and histograms, exported at `GET /metrics` in the Prometheus text format.
public final class MetricsRegistry: Sendable {
    struct Key: Hashable, Comparable {
        var name: String
        var labels: String
        static func < (a: Key, b: Key) -> Bool { (a.name, a.labels) < (b.name, b.labels) }
    }

    struct Histogram {
        var buckets: [Int]
        var sum: Double = 0
        var count = 0

        init() { buckets = Array(repeating: 0, count: MetricsRegistry.bucketBounds.count) }

        mutating func record(_ value: Double) {
            for (i, bound) in MetricsRegistry.bucketBounds.enumerated() where value <= bound { buckets[i] += 1 }
            sum += value
            count += 1
        }
    }

    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct State {
        var counters: [Key: Double] = [:]
        var gauges: [Key: Double] = [:]
        var histograms: [Key: Histogram] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func increment(_ name: String, by value: Double = 1, labels: [String: String] = [:]) {
        increment(name, by: value, rendered: Self.render(labels))
    }

    /// `rendered` is the label set as ``render(_:)`` writes it (`{a="x",b="y"}`, keys sorted);
    /// the request path builds it directly instead of through a dictionary.
    func increment(_ name: String, by value: Double = 1, rendered: String) {
        let key = Key(name: name, labels: rendered)
        state.withLock { $0.counters[key, default: 0] += value }
    }

    public func gauge(_ name: String, _ value: Double, labels: [String: String] = [:]) {
        let key = Key(name: name, labels: Self.render(labels))
        state.withLock { $0.gauges[key] = value }
    }

    public func observe(_ name: String, _ value: Double, labels: [String: String] = [:]) {
        observe(name, value, rendered: Self.render(labels))
    }

    func observe(_ name: String, _ value: Double, rendered: String) {
        let key = Key(name: name, labels: rendered)
        // Updated in place: copying the histogram out and back copied its buckets every time.
        state.withLock { $0.histograms[key, default: Histogram()].record(value) }
    }

    /// A metric a plugin records: named `son1k_plugin_<name>` with a `plugin` label.
    func recordPlugin(plugin: String, kind: Int32, name: String, value: Double, labels: String) {
        let safeName = "son1k_plugin_" + String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" })
        var parsed: [String: String] = ["plugin": plugin]
        for pair in labels.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { parsed[String(kv[0])] = String(kv[1]) }
        }
        switch Int(kind) {
        case SON1K_METRIC_GAUGE: gauge(safeName, value, labels: parsed)
        case SON1K_METRIC_HISTOGRAM: observe(safeName, value, labels: parsed)
        default: increment(safeName, by: value, labels: parsed)
        }
    }

    /// The Prometheus exposition text.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        var typed = Set<String>()
        func header(_ name: String, _ type: String) {
            if typed.insert(name).inserted { out += "# TYPE \(name) \(type)\n" }
        }
        for (key, value) in s.counters.sorted(by: { $0.key < $1.key }) {
            header(key.name, "counter")
            out += "\(key.name)\(key.labels) \(Self.number(value))\n"
        }
        for (key, value) in s.gauges.sorted(by: { $0.key < $1.key }) {
            header(key.name, "gauge")
            out += "\(key.name)\(key.labels) \(Self.number(value))\n"
        }
        for (key, h) in s.histograms.sorted(by: { $0.key < $1.key }) {
            header(key.name, "histogram")
            let inner = key.labels.isEmpty ? "" : String(key.labels.dropFirst().dropLast()) + ","
            for (i, bound) in Self.bucketBounds.enumerated() {
                out += "\(key.name)_bucket{\(inner)le=\"\(bound)\"} \(h.buckets[i])\n"
            }
            out += "\(key.name)_bucket{\(inner)le=\"+Inf\"} \(h.count)\n"
            out += "\(key.name)_sum\(key.labels) \(Self.number(h.sum))\n"
            out += "\(key.name)_count\(key.labels) \(h.count)\n"
        }
        return out
    }

    static func render(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let body = labels.sorted { $0.key < $1.key }.map { k, v in "\(k)=\"\(escape(v))\"" }.joined(separator: ",")
        return "{\(body)}"
    }

    /// Prometheus label-value escaping (backslash, quote, newline), on the request path so
    /// done without Foundation.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return value }
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String { v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}

import CSon1kABI
import Foundation

/// Metrics exported at `GET /metrics` as `son1k_plugin_<name>{plugin="…"}`.
public struct Metrics: Sendable {
    let host: HostBridge
    /// Add `value` to a counter.
    public func increment(_ name: String, by value: Double = 1, labels: [String: String] = [:]) { record(SON1K_METRIC_COUNTER, name, value, labels) }
    /// Set a gauge.
    public func gauge(_ name: String, _ value: Double, labels: [String: String] = [:]) { record(SON1K_METRIC_GAUGE, name, value, labels) }
    /// Observe a value into a histogram (seconds for durations).
    public func observe(_ name: String, _ value: Double, labels: [String: String] = [:]) { record(SON1K_METRIC_HISTOGRAM, name, value, labels) }
    private func record(_ kind: Int, _ name: String, _ value: Double, _ labels: [String: String]) {
        let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        withUTF8Pointer(name) { n, nl in
            withUTF8Pointer(text) { l, ll in host.api.pointee.metric!(host.ctx, Int32(kind), n, nl, value, l, ll) }
        }
    }
}

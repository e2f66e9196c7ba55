/// One kind of job a plugin declares, as the manifest lists it: the queue its jobs wait in,
/// whether the kernel runs a worker of the plugin's for it, and whether the plugin hears of
/// its changes.
package struct JobSpec: Codable, Sendable, Equatable {
    package var kind: String
    package var queue: String
    package var worker: Bool
    package var onChange: Bool

    package init(kind: String, queue: String, worker: Bool, onChange: Bool) {
        self.kind = kind
        self.queue = queue
        self.worker = worker
        self.onChange = onChange
    }

    enum CodingKeys: String, CodingKey {
        case kind, queue, worker
        case onChange = "on_change"
    }
}

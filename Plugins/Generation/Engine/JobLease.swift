/// What a worker receives when it leases a job (`POST /api/worker/jobs/next`): shared by
/// the queue that sends it and `son1k worker` that reads it, so the two cannot drift.
public struct JobLease: Codable, Sendable {
    public var id: String
    /// Accompanies every report on this attempt; a report with an old one gets 409.
    public var leaseId: String
    public var engine: String
    public var attempt: Int
    public var job: EngineJob
    public var timeoutS: Int
    public var heartbeatIntervalS: Double

    public init(id: String, leaseId: String, engine: String, attempt: Int, job: EngineJob, timeoutS: Int, heartbeatIntervalS: Double) {
        self.id = id
        self.leaseId = leaseId
        self.engine = engine
        self.attempt = attempt
        self.job = job
        self.timeoutS = timeoutS
        self.heartbeatIntervalS = heartbeatIntervalS
    }
}

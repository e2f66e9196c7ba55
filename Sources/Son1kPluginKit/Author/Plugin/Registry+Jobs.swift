extension Registry {
    /// Run jobs of `Args.kind` on `concurrency` threads of the kernel's: each call receives
    /// one leased job; returning completes it, throwing fails or postpones it (see ``Job``).
    /// `queues` are the queues (within the plugin) the worker takes jobs from: the kind's own
    /// unless said.
    ///
    /// ```swift
    /// r.worker(RenderJob.self, concurrency: 2) { job, ctx in
    ///     try job.progress(0.5)
    /// }
    /// ```
    public mutating func worker<Args: JobArgs>(_ type: Args.Type, queues: [String]? = nil, concurrency: Int,
                                               _ handler: @escaping @Sendable (Job<Args>, Context<Config>) throws -> Void) {
        worker(type, queues: queues, concurrency: { _ in concurrency }, handler)
    }

    /// A worker whose thread count comes from the plugin's config (0 runs none here: external
    /// workers take the jobs).
    public mutating func worker<Args: JobArgs>(_ type: Args.Type, queues: [String]? = nil, concurrency: @escaping @Sendable (Config) -> Int,
                                               _ handler: @escaping @Sendable (Job<Args>, Context<Config>) throws -> Void) {
        if jobWorkers[Args.kind] != nil { problems.append("the worker for jobs of kind '\(Args.kind)' is registered twice") }
        declare(type, queues: queues, worker: true)
        jobWorkers[Args.kind] = (concurrency, { info, ctx in
            try handler(Job(info: info, args: try info.args(as: Args.self), queue: ctx.jobs), ctx)
        })
    }

    /// Declare a kind of job without a worker in the kernel: jobs that external workers lease
    /// through routes of the plugin's (``JobQueue/lease(queues:kinds:worker:limit:in:)``).
    public mutating func jobs<Args: JobArgs>(_ type: Args.Type, queues: [String]? = nil) {
        declare(type, queues: queues, worker: false)
    }

    /// Hear of every change of the plugin's jobs of `Args.kind` — enqueued, leased, progress,
    /// completed, retrying, failed, timeout, cancelled, released, postponed, lost — inside the
    /// transaction that made it (`ctx.db` is bound to it), whoever made it: the plugin, its
    /// workers, or the kernel (a timeout, a lost worker). Keep a status of your own in step
    /// with the job's, or publish your own actions, atomically with the change. Throwing rolls
    /// the change back.
    public mutating func onJobChange<Args: JobArgs>(_ type: Args.Type, _ handler: @escaping @Sendable (JobChange<Args>, Context<Config>) throws -> Void) {
        if jobChanges[Args.kind] != nil { problems.append("the job change handler for '\(Args.kind)' is registered twice") }
        jobChanges[Args.kind] = { cause, info, ctx in
            guard let cause = JobChange<Args>.Cause(rawValue: cause) else { return }
            try handler(JobChange(cause: cause, job: info, args: try info.args(as: Args.self)), ctx)
        }
        for i in jobSpecs.indices where jobSpecs[i].kind == Args.kind { jobSpecs[i].onChange = true }
        if !jobSpecs.contains(where: { $0.kind == Args.kind }) { declare(type, queues: nil, worker: false) }
    }

    private mutating func declare<Args: JobArgs>(_ type: Args.Type, queues: [String]?, worker: Bool) {
        let onChange = jobChanges[Args.kind] != nil
        for queue in queues ?? [Args.queue] {
            if let i = jobSpecs.firstIndex(where: { $0.kind == Args.kind && $0.queue == queue }) {
                jobSpecs[i].worker = jobSpecs[i].worker || worker
            } else {
                jobSpecs.append(JobSpec(kind: Args.kind, queue: queue, worker: worker, onChange: onChange))
            }
        }
    }
}

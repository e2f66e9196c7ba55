/// The arguments of one kind of job: a type of your own that names its kind, and the queue
/// its jobs wait in.
///
/// ```swift
/// struct RenderJob: JobArgs {
///     static let kind = "render"
///     var songID: String
/// }
/// ```
///
/// The kernel stores the arguments as JSON with the job (snake_case keys, like every other
/// payload) and hands them back, decoded, to the worker registered for the kind. Keep them
/// small — ids rather than documents: the kernel refuses arguments over its limit.
public protocol JobArgs: Codable, Sendable {
    /// Which work this is, e.g. `render`. With the plugin's name it picks the worker.
    static var kind: String { get }
    /// The queue, within the plugin, that jobs of this kind wait in unless enqueued in
    /// another: `default` unless said. The kernel names it `<plugin>.<queue>`.
    static var queue: String { get }
}

extension JobArgs {
    /// `default`.
    public static var queue: String { "default" }
}

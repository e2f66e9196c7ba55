/// The answer of a route that has nothing to say: 204 No Content.
public struct NoContent: Codable, Sendable {
    /// The empty answer.
    public init() {}
}

/// What a typed hook subscriber does with the event.
public enum TypedHookOutcome<Payload: Codable & Sendable>: Sendable {
    /// Let it through unchanged.
    case `continue`
    /// Let it through with this payload instead (later subscribers and the publisher see it).
    case replace(Payload)
}

/// An event topic and the payload it carries: publishers and subscribers name the same
/// `Topic` value, so both sides agree on the payload's type, and a subscriber reads
/// `event.payload.quality` instead of digging a string key out of JSON.
///
/// ```swift
/// struct Played: Codable, Sendable { var songId: String; var seconds: Double }
/// extension Topic where Payload == Played { static let played = Topic("plays.song_played") }
///
/// try ctx.publishAction(.played, Played(songId: id, seconds: 31.5), userID: user, in: tx)
/// r.onAction(Topic.played) { event, ctx in ctx.log.info("\(event.payload.songId) played") }
/// ```
///
/// A payload that lacks a required field, or holds one of the wrong type, is refused when it
/// is delivered: the handler is not called and the delivery fails with the field named (the
/// kernel retries it and lists it at `/api/admin/events`) — never a silent default. Fields a
/// subscriber does not know are ignored, so a publisher may add fields without breaking it.
public struct Topic<Payload: Codable & Sendable>: Sendable, CustomStringConvertible {
    /// `plugin.noun_verb`.
    public let name: String

    /// A topic named `plugin.noun_verb`; publishers and subscribers use the same value.
    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}

extension Event {
    /// The payload as `P`, or a 422 ``PluginError`` naming the field that does not fit.
    func typed<P: Codable & Sendable>(_ type: P.Type) throws -> TypedEvent<P> {
        do {
            let payload = try JSONValueDecoder.decode(P.self, from: data)
            return TypedEvent(id: id, topic: topic, occurredAt: occurredAt, userID: userID, payload: payload)
        } catch let error as DecodingError {
            throw PluginError(status: 422, code: "event_payload_invalid", detail: "The payload of \(topic) \(id) does not fit: \(BodyDecoder.describe(error))")
        }
    }
}

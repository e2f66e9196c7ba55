/// A service and its input and answer types: the plugin that offers it and the plugins that
/// call it name the same `Service` value.
///
/// ```swift
/// struct PlayCount: Codable, Sendable { var songId: String }
/// struct Plays: Codable, Sendable { var plays: Int }
/// extension Service where Input == PlayCount, Output == Plays { static let playCount = Service("plays.count") }
///
/// r.service(.playCount) { input, ctx in Plays(plays: try count(input.songId, ctx)) }   // the provider
/// let plays = try ctx.call(.playCount, PlayCount(songId: id))                          // a caller
/// ```
///
/// An input or answer that does not fit its type is a 422 ``PluginError`` naming the field.
public struct Service<Input: Codable & Sendable, Output: Codable & Sendable>: Sendable, CustomStringConvertible {
    /// `plugin.verb_noun`.
    public let name: String

    /// A service named `plugin.verb_noun`; the offering plugin and its callers use the same value.
    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}

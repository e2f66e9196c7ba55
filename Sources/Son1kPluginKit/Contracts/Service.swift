/// A service and its input and answer types: the plugin that offers it and the plugins that
/// call it name the same `Service` value.
///
/// ```swift
/// struct TiersOf: Codable, Sendable { var userIds: [String] }
/// struct Tiers: Codable, Sendable { var users: [String: String] }
/// extension Service where Input == TiersOf, Output == Tiers { static let tiersOf = Service("tiers.tiers_of") }
///
/// r.service(.tiersOf) { input, ctx in Tiers(users: try lookUp(input.userIds, ctx)) }   // the provider
/// let tiers = try ctx.call(.tiersOf, TiersOf(userIds: ids))                           // a caller
/// ```
///
/// An input or answer that does not fit its type is a 422 ``PluginError`` naming the field.
public struct Service<Input: Codable & Sendable, Output: Codable & Sendable>: Sendable, CustomStringConvertible {
    /// `plugin.verb_noun`.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}

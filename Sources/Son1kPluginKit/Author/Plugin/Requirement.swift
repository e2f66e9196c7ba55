/// A plugin another plugin needs. Written as a string literal for a required dependency.
public struct Requirement: Codable, Sendable, Hashable, ExpressibleByStringLiteral {
    /// The other plugin's manifest name.
    public var name: String
    /// An optional requirement only orders loading; a missing one does not disable the plugin.
    public var optional: Bool

    /// Need `name` (or, `optional`, only load after it when it is there).
    public init(_ name: String, optional: Bool = false) {
        self.name = name
        self.optional = optional
    }
    public init(stringLiteral value: String) { self.init(value) }

    /// Load after `name` when the deployment runs it; run without it otherwise.
    public static func optional(_ name: String) -> Requirement { .init(name, optional: true) }
}

extension Requirement {
    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            self.init(name)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(String.self, forKey: .name), optional: try c.decodeIfPresent(Bool.self, forKey: .optional) ?? false)
    }
}

import Son1kPluginKit

/// Adds a badge to every profile: a plugin that contributes to `GET /api/users/{id}/profile`
/// with nothing changed in the kernel or in any other plugin.
struct BadgesPlugin: Plugin {
    static let manifest = Manifest(name: "badges", version: "1.0.0", description: "Awards the early-adopter badge.")

    func register(_ r: inout Registry<NoConfig>) {
        r.onHook(.profileAssemble) { event, ctx in
            var profile = event.payload
            profile.badges.append(ProfileBadge(id: "early_adopter", name: "Early Adopter", icon: "🚀"))
            return .replace(profile)
        }
    }
}

@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(BadgesPlugin.self) }

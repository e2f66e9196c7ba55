import Son1kPluginKit

/// Services the kernel itself offers to plugins through `call`, named `kernel.…`.
///
/// Only what plugins may show to other users leaves the kernel this way: a user's public
/// profile, never an email address or a role.
extension Kernel {
    /// How many users one `kernel.users.profiles` call may name.
    static let profilesPerCall = 500

    func callKernelService(_ name: String, input: [UInt8]) throws -> [UInt8] {
        switch name {
        case "kernel.users.profiles":
            // `{user_ids: [...]}` → `{profiles: {id: {user_id, username, avatar}}}`; unknown ids are left out.
            let ids = try JSONValue.parse(input)["user_ids"].array?.compactMap(\.string) ?? []
            guard ids.count <= Self.profilesPerCall else {
                throw PluginError.invalid("user_ids", "may name at most \(Self.profilesPerCall) users per call.")
            }
            var profiles: [String: JSONValue] = [:]
            for id in Set(ids) {
                guard let user = try identity.user(id: id) else { continue }
                // The kernel keeps no pictures; `avatar` is there for the shape front ends expect.
                profiles[id] = ["user_id": .string(user.id), "username": .string(user.username), "avatar": .null]
            }
            return JSONValue.object(["profiles": .object(profiles)]).bytes
        default:
            throw PluginError(status: 503, code: "service_unavailable", detail: "The kernel offers no service '\(name)'.")
        }
    }
}

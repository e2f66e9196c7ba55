/// Who may call a route.
///
/// - `public`: anyone, no credentials.
/// - `user`: a signed-in user (or an admin).
/// - `worker`: a worker API token (or an admin).
/// - `admin`: an admin only.
///
/// Independently of the level, a route whose path contains `{user_id}` serves only the
/// user named there, or an admin.
public enum AuthLevel: String, Codable, Sendable, CaseIterable {
    case `public`, user, worker, admin
}

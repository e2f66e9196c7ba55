import Foundation
import Son1kPluginKit

/// The kernel's own HTTP routes. Each is declared with the same ``RouteSpec`` plugins use,
/// so auth, /openapi.json and /docs treat kernel and plugin routes alike.
///
/// The handlers reach the kernel through `kernel`, bound once the kernel is built (the
/// routes are needed to build its router, before the kernel exists).
final class KernelRoutes: @unchecked Sendable {
    private(set) weak var bound: Kernel?
    var kernel: Kernel { bound! }

    func bind(_ kernel: Kernel) { bound = kernel }

    var all: [RouteTarget] { systemRoutes + authRoutes + sessionRoutes + accountMailRoutes + adminRoutes + blobRoutes + profileRoutes }

    func route(_ method: String, _ path: String, _ auth: AuthLevel, _ summary: String, description: String? = nil,
               request: JSONValue? = nil, response: JSONValue? = nil, status: Int? = nil, produces: String? = nil, maxBodyBytes: Int? = nil,
               inline: Bool = false, _ handler: @escaping @Sendable (Request) throws -> Response) -> RouteTarget {
        RouteTarget(spec: RouteSpec(method: method, path: path, auth: auth, summary: summary, description: description,
                                    requestSchema: request, responseSchema: response, successStatus: status, maxBodyBytes: maxBodyBytes,
                                    responseContentType: produces),
                    handler: inline ? .inline(handler) : .kernel(handler))
    }
}

/// One page of a listing read with one row more than `limit`: the rows to show, and the
/// cursor of the next page (the last shown row's id) when that extra row came back.
func pageOf<Row>(_ rows: [Row], limit: Int, id: (Row) -> String) -> (items: [Row], next: String?) {
    let items = Array(rows.prefix(limit))
    return (items, rows.count > limit ? items.last.map(id) : nil)
}

/// A signed-in session: the bearer token and whose it is.
struct Session: Codable, Sendable {
    var token: String
    var user: User
}

/// A page of users, in id order.
struct UserPage: Codable, Sendable {
    var items: [User]
    /// Pass as `cursor` for the next page; absent on the last.
    var nextCursor: String?
}

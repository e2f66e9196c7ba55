import Son1kContracts
import Son1kPluginKit

/// The example plugin: the template a plugin author copies.
///
/// It shows each part of the SDK once: a typed config with a default, a migration, a public
/// route, an authenticated route that writes in a transaction and publishes a hook (which
/// other plugins may veto or modify) and an action (delivered after commit), a paginated
/// list, and a service other plugins can call.
public struct HelloPlugin: Plugin {
    public init() {}

    public static let manifest = Manifest(
        name: "hello", version: "1.0.0",
        description: "Greets people: the example plugin to copy when writing your own.")

    public struct Config: PluginConfig {
        public init() {}

        /// The word before the name.
        var greeting = "Hello"
        public static let constraints: [ConfigConstraint] = [.describe("greeting", "The word that starts every greeting.")]
    }

    public static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE hello_greetings (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                message TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """),
        .init(2, "CREATE INDEX hello_greetings_user ON hello_greetings (user_id, id)"),
    ]

    public func register(_ r: inout Registry<Config>) {
        r.get("/api/hello/{name}", auth: .public, summary: "Greet someone", returns: Message.self) { req, ctx in
            Message(message: "\(ctx.config.greeting), \(req.param("name"))!")
        }

        r.post("/api/hello/greetings", auth: .user, summary: "Record a greeting",
               description: "Publishes the hook `hello.before_greet` (subscribers may change or veto the name) and the action `hello.greeted`.",
               body: Greetings.Create.self, returns: Greetings.Greeting.self, status: 201) { req, input, ctx in
            try Greetings.create(name: input.name, for: try req.requirePrincipal().id, ctx)
        }

        r.get("/api/hello/greetings", auth: .user, summary: "List my greetings, newest first",
              description: "Cursor pagination: `limit` (1–100, default 20) and `cursor` from the previous page's `next_cursor`.",
              returns: Greetings.Page.self) { req, ctx in
            try Greetings.list(for: try req.requirePrincipal().id, limit: try req.pageLimit(), cursor: req.query("cursor"), ctx)
        }

        // The body is the image itself, not JSON: an untyped route, its answer's schema derived.
        r.put("/api/hello/avatar", auth: .user, summary: "Upload my avatar (the raw image as the body)",
              description: "Stored as a private blob readable by its owner at /api/blobs/{id}.",
              response: JSONSchema.of(BlobInfo.self, for: .response), status: 201) { req, ctx in
            guard !req.body.isEmpty else { throw PluginError.invalid("body", "is empty; send the image bytes.") }
            let contentType = req.headers["content-type"] ?? "application/octet-stream"
            return try .json(ctx.blobs.put(req.body, contentType: contentType, ownerID: try req.requirePrincipal().id), status: 201)
        }

        r.service(.helloGreet) { input, ctx in
            GreetMessage(message: "\(ctx.config.greeting), \(input.name ?? "stranger")!")
        }
    }
}

struct Message: Codable { var message: String }

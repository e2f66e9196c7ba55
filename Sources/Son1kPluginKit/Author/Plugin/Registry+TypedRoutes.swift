/// Routes that declare their types: the body arrives decoded, the answer is a value, and
/// `/openapi.json` documents both with schemas derived from the types (``JSONSchema``), so the
/// documentation is what the route does.
///
/// ```swift
/// struct CreateGreeting: Codable { var name: String }
/// struct Greeting: Codable { var id: Int; var message: String }
///
/// r.post("/api/hello/greetings", auth: .user, summary: "Record a greeting",
///        body: CreateGreeting.self, returns: Greeting.self, status: 201) { req, input, ctx in
///     Greeting(id: 1, message: "Hello, \(input.name)!")
/// }
/// r.delete("/api/hello/greetings/{id}", auth: .user, summary: "Forget a greeting", returns: NoContent.self) { req, ctx in
///     NoContent()
/// }
/// ```
///
/// A body that is not JSON is answered 400, one that does not match `Input` 422 naming the
/// field, before the handler runs. Answers are encoded by the SDK's codec (snake_case,
/// millisecond dates, exact integers). A ``PluginError`` thrown by the handler becomes its
/// problem+json, as for untyped routes.
extension Registry {
    /// A typed route's handler: the request and the context in, the answer out.
    public typealias TypedHandler<Output> = @Sendable (Request, Context<Config>) throws -> Output
    /// A typed route's handler with its decoded body.
    public typealias TypedBodyHandler<Input, Output> = @Sendable (Request, Input, Context<Config>) throws -> Output

    /// A GET answering `Output` as JSON.
    public mutating func get<Output: Codable & Sendable>(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                                                         returns output: Output.Type, mayWait: Bool = false,
                                                         _ handler: @escaping TypedHandler<Output>) {
        typed("GET", path, auth: auth, summary: summary, description: description, request: nil, output: output, status: 200,
              maxBodyBytes: nil, mayWait: mayWait) { req, ctx in Reply(try handler(req, ctx)) }
    }

    /// A GET whose answer carries headers of its own (``Reply``).
    public mutating func get<Output: Codable & Sendable>(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                                                         returns output: Output.Type, mayWait: Bool = false,
                                                         _ handler: @escaping TypedHandler<Reply<Output>>) {
        typed("GET", path, auth: auth, summary: summary, description: description, request: nil, output: output, status: 200,
              maxBodyBytes: nil, mayWait: mayWait, handler)
    }

    /// A POST taking `Input` as its JSON body and answering `Output` with `status`.
    public mutating func post<Input: Decodable & Sendable, Output: Codable & Sendable>(
        _ path: String, auth: AuthLevel, summary: String, description: String? = nil, body input: Input.Type,
        returns output: Output.Type, status: Int = 200, maxBodyBytes: Int? = nil, mayWait: Bool = false,
        _ handler: @escaping TypedBodyHandler<Input, Output>
    ) {
        typed("POST", path, auth: auth, summary: summary, description: description, request: input, output: output, status: status,
              maxBodyBytes: maxBodyBytes, mayWait: mayWait) { req, ctx in Reply(try handler(req, try req.decode(Input.self), ctx)) }
    }

    /// A POST whose answer carries headers of its own (``Reply``).
    public mutating func post<Input: Decodable & Sendable, Output: Codable & Sendable>(
        _ path: String, auth: AuthLevel, summary: String, description: String? = nil, body input: Input.Type,
        returns output: Output.Type, status: Int = 200, maxBodyBytes: Int? = nil, mayWait: Bool = false,
        _ handler: @escaping TypedBodyHandler<Input, Reply<Output>>
    ) {
        typed("POST", path, auth: auth, summary: summary, description: description, request: input, output: output, status: status,
              maxBodyBytes: maxBodyBytes, mayWait: mayWait) { req, ctx in try handler(req, try req.decode(Input.self), ctx) }
    }

    /// A POST without a JSON body: an action on the resource in the path, or one whose body
    /// the handler reads raw (`req.body`, an upload of up to `maxBodyBytes`).
    public mutating func post<Output: Codable & Sendable>(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                                                          returns output: Output.Type, status: Int = 200, maxBodyBytes: Int? = nil,
                                                          mayWait: Bool = false, _ handler: @escaping TypedHandler<Output>) {
        typed("POST", path, auth: auth, summary: summary, description: description, request: nil, output: output, status: status,
              maxBodyBytes: maxBodyBytes, mayWait: mayWait) { req, ctx in Reply(try handler(req, ctx)) }
    }

    /// A PUT taking `Input` as its JSON body and answering `Output`.
    public mutating func put<Input: Decodable & Sendable, Output: Codable & Sendable>(
        _ path: String, auth: AuthLevel, summary: String, description: String? = nil, body input: Input.Type,
        returns output: Output.Type, status: Int = 200, maxBodyBytes: Int? = nil, _ handler: @escaping TypedBodyHandler<Input, Output>
    ) {
        typed("PUT", path, auth: auth, summary: summary, description: description, request: input, output: output, status: status,
              maxBodyBytes: maxBodyBytes, mayWait: false) { req, ctx in Reply(try handler(req, try req.decode(Input.self), ctx)) }
    }

    /// A PUT whose answer carries headers of its own (``Reply``).
    public mutating func put<Input: Decodable & Sendable, Output: Codable & Sendable>(
        _ path: String, auth: AuthLevel, summary: String, description: String? = nil, body input: Input.Type,
        returns output: Output.Type, status: Int = 200, maxBodyBytes: Int? = nil, _ handler: @escaping TypedBodyHandler<Input, Reply<Output>>
    ) {
        typed("PUT", path, auth: auth, summary: summary, description: description, request: input, output: output, status: status,
              maxBodyBytes: maxBodyBytes, mayWait: false) { req, ctx in try handler(req, try req.decode(Input.self), ctx) }
    }

    /// A PATCH taking `Input` as its JSON body and answering `Output`.
    public mutating func patch<Input: Decodable & Sendable, Output: Codable & Sendable>(
        _ path: String, auth: AuthLevel, summary: String, description: String? = nil, body input: Input.Type,
        returns output: Output.Type, _ handler: @escaping TypedBodyHandler<Input, Output>
    ) {
        typed("PATCH", path, auth: auth, summary: summary, description: description, request: input, output: output, status: 200,
              maxBodyBytes: nil, mayWait: false) { req, ctx in Reply(try handler(req, try req.decode(Input.self), ctx)) }
    }

    /// A DELETE answering `Output` (``NoContent`` for 204).
    public mutating func delete<Output: Codable & Sendable>(_ path: String, auth: AuthLevel, summary: String, description: String? = nil,
                                                            returns output: Output.Type, _ handler: @escaping TypedHandler<Output>) {
        typed("DELETE", path, auth: auth, summary: summary, description: description, request: nil, output: output, status: 200,
              maxBodyBytes: nil, mayWait: false) { req, ctx in Reply(try handler(req, ctx)) }
    }

    /// Derives both schemas once, here at registration, and wraps the handler so a request
    /// pays only for decoding and encoding.
    private mutating func typed<Output: Codable & Sendable>(
        _ method: String, _ path: String, auth: AuthLevel, summary: String, description: String?, request: (any Decodable.Type)?,
        output: Output.Type, status: Int, maxBodyBytes: Int?, mayWait: Bool, _ respond: @escaping TypedHandler<Reply<Output>>
    ) {
        var requestSchema: JSONValue?
        if let request {
            let derived = JSONSchema.deriveErased(request, for: .request)
            requestSchema = derived.schema
            problems += derived.problems.map { "\(method) \(path): \($0)" }
        }
        let empty = Output.self == NoContent.self
        // An optional answer is the value, or 204 when there is none (`returns: JobLease?.self`).
        let optional = (Output.self as? any OptionalSchema.Type)
        let mayBeEmpty = optional != nil
        let response = optional.map { JSONSchema.deriveErased($0.wrappedType, for: .response) } ?? JSONSchema.derive(Output.self, for: .response)
        problems += response.problems.map { "\(method) \(path): \($0)" }
        route(method, path, auth: auth, summary: summary, description: description, request: requestSchema,
              response: empty ? nil : response.schema, status: empty ? 204 : status, maxBodyBytes: maxBodyBytes, mayWait: mayWait,
              mayAnswerEmpty: mayBeEmpty) { req, ctx in
            let reply = try respond(req, ctx)
            // Only an optional answer is looked at: other routes pay no cast per request.
            let nothing = empty || (mayBeEmpty && (reply.body as? any OptionalSchema)?.isAbsent == true)
            var response = nothing ? Response.noContent : try Response.json(reply.body, status: reply.status ?? status)
            response.headers += reply.headers
            return response
        }
    }
}

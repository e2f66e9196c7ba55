import Son1kPluginKit

/// Builds the OpenAPI 3.1 document from the routes actually served: the kernel's own and
/// every running plugin's, each tagged with its owner.
enum OpenAPIDocument {
    static func build(_ kernel: Kernel) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var tags: [String: String] = ["kernel": "Accounts, tokens, plugins, events, blobs and health."]
        for route in kernel.router.routes {
            if case .plugin(let p, _) = route.target.handler {
                guard p.status == .running else { continue }
                tags[p.name] = p.manifest?.description ?? ""
            }
            let spec = route.target.spec
            var op: JSONValue = [
                "summary": .string(spec.summary),
                "operationId": .string(operationID(spec.method, spec.path)),
                "tags": [.string(route.target.owner)],
                "x-auth": .string(spec.auth.rawValue),
            ]
            if let d = spec.description { op["description"] = .string(d) }
            if spec.auth != .public { op["security"] = [["bearer": []]] }
            let params = spec.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { seg -> JSONValue in
                ["name": .string(String(seg.dropFirst().dropLast())), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            if !params.isEmpty { op["parameters"] = .array(params) }
            if let body = spec.requestSchema { op["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
            let success = spec.successStatus ?? 200
            var responses: [String: JSONValue] = [
                String(success): successResponse(spec, status: success),
                "default": ["description": "An error", "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]]],
            ]
            if spec.mayAnswerEmpty { responses["204"] = ["description": "Nothing to answer; no content"] }
            if spec.auth != .public {
                responses["401"] = ["$ref": "#/components/responses/Unauthenticated"]
                responses["403"] = ["$ref": "#/components/responses/Forbidden"]
            }
            op["responses"] = .object(responses)
            paths[spec.path, default: [:]][spec.method.lowercased()] = op
        }
        let problem: JSONValue = [
            "type": "object", "required": ["type", "title", "status", "detail", "code"],
            "properties": ["type": ["type": "string"], "title": ["type": "string"], "status": ["type": "integer"],
                           "detail": ["type": "string"], "code": ["type": "string"]],
        ]
        let problemResponse = { (d: String) -> JSONValue in
            ["description": .string(d), "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]]]
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "son1k", "version": "1.0.0", "description": "The son1k music platform API. Errors are application/problem+json."],
            "servers": [["url": "/"]],
            "paths": .object(paths),
            "tags": .array(tags.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "description": .string($0.value)] }),
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "A JWT from /api/auth/login, or an API token (s1k.…)"]],
                "schemas": ["Problem": problem],
                "responses": ["Unauthenticated": problemResponse("No valid credentials"), "Forbidden": problemResponse("Not allowed for these credentials")],
            ],
        ]
    }

    /// A 204 has no body; a route that declared a media type other than JSON answers bytes of
    /// it (audio, NDJSON lines); any other answer is JSON of the route's schema.
    static func successResponse(_ spec: RouteSpec, status: Int) -> JSONValue {
        if status == 204 { return ["description": "Done; no content"] }
        var content: [String: JSONValue] = ["application/json": ["schema": spec.responseSchema ?? ["type": "object"]]]
        if let type = spec.responseContentType, !type.hasPrefix("application/json") {
            content = [type: ["schema": spec.responseSchema ?? ["type": "string", "format": "binary"]]]
        }
        return ["description": "Success", "content": .object(content)]
    }

    static func operationID(_ method: String, _ path: String) -> String {
        let words = path.split(separator: "/").map { $0.hasPrefix("{") ? "by_" + $0.dropFirst().dropLast() : String($0) }
        return ([method.lowercased()] + words).joined(separator: "_").replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
    }
}

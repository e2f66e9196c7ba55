/// One HTTP route as the manifest declares it.
package struct RouteSpec: Codable, Sendable, Hashable {
    package var method: String
    /// The path with `{name}` parameters, e.g. `/api/plays/{id}`.
    package var path: String
    package var auth: AuthLevel
    package var summary: String
    package var description: String?
    /// JSON Schema of the request body, shown in /openapi.json.
    package var requestSchema: JSONValue?
    /// JSON Schema of the success response body, shown in /openapi.json.
    package var responseSchema: JSONValue?
    /// The success status documented in /openapi.json (200 unless said otherwise).
    package var successStatus: Int?
    /// The largest request body this route accepts, when it differs from the kernel's
    /// `max_body_bytes` (e.g. an audio upload); larger bodies get 413 before the plugin runs.
    package var maxBodyBytes: Int?
    /// The handler may spend most of its time waiting (a long poll, a batch it waits to join,
    /// a slow upstream): the kernel runs it on a thread of its own, so waiting handlers never
    /// hold the threads that serve every other request.
    package var mayWait: Bool
    /// The handler streams its response (`req.startStream`): the kernel sends the head and
    /// each chunk as the handler writes them, and gives it a thread of its own.
    package var stream: Bool
    /// The success answer's media type when it is not JSON (`audio/wav`, `application/x-ndjson`).
    package var responseContentType: String?
    /// Besides its success answer, the route may answer 204 with no body (a long poll that
    /// found nothing).
    package var mayAnswerEmpty: Bool

    package init(method: String, path: String, auth: AuthLevel, summary: String, description: String? = nil,
                requestSchema: JSONValue? = nil, responseSchema: JSONValue? = nil, successStatus: Int? = nil, maxBodyBytes: Int? = nil,
                mayWait: Bool = false, stream: Bool = false, responseContentType: String? = nil, mayAnswerEmpty: Bool = false) {
        self.method = method.uppercased()
        self.path = path
        self.auth = auth
        self.summary = summary
        self.description = description
        self.requestSchema = requestSchema
        self.responseSchema = responseSchema
        self.successStatus = successStatus
        self.maxBodyBytes = maxBodyBytes
        self.mayWait = mayWait
        self.stream = stream
        self.responseContentType = responseContentType
        self.mayAnswerEmpty = mayAnswerEmpty
    }

    enum CodingKeys: String, CodingKey {
        case method, path, auth, summary, description
        case requestSchema = "request_schema", responseSchema = "response_schema", successStatus = "success_status"
        case maxBodyBytes = "max_body_bytes", mayWait = "may_wait", stream, responseContentType = "response_content_type"
        case mayAnswerEmpty = "may_answer_empty"
    }

    /// Hand-written manifests (plugins in C) may leave out everything but method, path and auth.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(String.self, forKey: .method), path: try c.decode(String.self, forKey: .path),
                  auth: try c.decode(AuthLevel.self, forKey: .auth), summary: try c.decodeIfPresent(String.self, forKey: .summary) ?? "",
                  description: try c.decodeIfPresent(String.self, forKey: .description),
                  requestSchema: try c.decodeIfPresent(JSONValue.self, forKey: .requestSchema),
                  responseSchema: try c.decodeIfPresent(JSONValue.self, forKey: .responseSchema),
                  successStatus: try c.decodeIfPresent(Int.self, forKey: .successStatus),
                  maxBodyBytes: try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes),
                  mayWait: try c.decodeIfPresent(Bool.self, forKey: .mayWait) ?? false,
                  stream: try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false,
                  responseContentType: try c.decodeIfPresent(String.self, forKey: .responseContentType),
                  mayAnswerEmpty: try c.decodeIfPresent(Bool.self, forKey: .mayAnswerEmpty) ?? false)
    }
}

import Foundation
import Son1kPluginKit
import Testing

/// Typed routes end to end: the documented schemas are derived from the route's types, and
/// what the route answers is what they say.
@Suite struct TypedRouteTests {
    @Test func openAPIShowsSchemasDerivedFromTheTypesAndTheAnswersMatchThem() async throws {
        let k = try await TestKernel.start([.hello])
        defer { k.stop() }
        let doc = try await k.request("GET", "/openapi.json").json
        let create = doc["paths"]["/api/hello/greetings"]["post"]
        let body = create["requestBody"]["content"]["application/json"]["schema"]
        #expect(body["required"] == ["name"])
        #expect(body["properties"]["name"]["type"] == "string" && body["properties"]["name"]["minLength"] == 1 && body["properties"]["name"]["maxLength"] == 100)
        let greeting = create["responses"]["201"]["content"]["application/json"]["schema"]
        #expect(greeting["additionalProperties"] == false)
        #expect(Set(greeting["required"].array ?? []) == ["id", "name", "message", "created_at"])
        let page = doc["paths"]["/api/hello/greetings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        #expect(page["required"] == ["items"], "next_cursor is optional: \(page)")
        #expect(page["properties"]["items"]["items"] == greeting)
        #expect(page["properties"]["next_cursor"]["type"] == ["string", "null"])

        let me = try await k.register("typed")
        let created = try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": "Ann"])
        #expect(created.status == 201)
        #expect(conforms(created.json, to: greeting), "\(created.json) against \(greeting)")
        let listed = try await k.request("GET", "/api/hello/greetings", token: me.token)
        #expect(conforms(listed.json, to: page), "\(listed.json) against \(page)")

        let wrongType = try await k.request("POST", "/api/hello/greetings", token: me.token, json: ["name": 5])
        #expect(wrongType.status == 422 && wrongType.json["detail"].string?.contains("name") == true, "\(wrongType)")
        let notJSON = try await k.request("POST", "/api/hello/greetings", token: me.token, body: Array("{name".utf8))
        #expect(notJSON.status == 400 && notJSON.json["code"] == "malformed_json")
    }

    @Test func theTiersAnswersAreWhatTheirDocumentedSchemasSay() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 0]), .tiers(["tiers": ["FREE": ["per_hour": 2]]])])
        defer { k.stop() }
        let doc = try await k.request("GET", "/openapi.json").json
        let schema = { (path: String) in doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"] }
        let me = try await k.register("tiered")
        let catalog = try await k.request("GET", "/api/tiers")
        #expect(conforms(catalog.json, to: schema("/api/tiers")), "\(catalog.json)")
        let limits = try await k.request("GET", "/api/tiers/limits/me", token: me.token)
        #expect(conforms(limits.json, to: schema("/api/tiers/limits/me")), "\(limits.json)")
        #expect(limits.json["usage"]["this_hour"] == 0 && limits.json["config"]["daily_limit"] == 3 && limits.json["user_id"] == .string(me.id))
        let tier = schema("/api/tiers")["properties"]["tiers"]["items"]["properties"]
        for field in ["storage_gb", "priority", "daily_limit", "monthly_limit", "per_hour"] { #expect(tier[field] != .null, "\(field) is documented") }
        let documented = schema("/api/tiers/limits/me")["properties"]
        for field in ["user_id", "subscription", "usage", "limits", "config"] { #expect(documented[field] != .null, "\(field) is documented") }
        #expect(documented["usage"]["properties"]["this_hour"] != .null)
    }

    @Test func anEventMissingAFieldIsReportedNotDefaulted() async throws {
        let k = try await TestKernel.start([.hello, .faulty(), .generation(["builtin_workers": 0]), .tiers()])
        defer { k.stop() }
        let admin = try await k.adminToken()
        // A generation.completed without `size` (and without `quality`, which tiers once read as "standard").
        let published = try await k.request("POST", "/api/faulty/publish", token: admin, json: [
            "topic": "generation.completed", "user_id": "usr_x",
            "data": ["generation_id": "gen_incomplete", "user_id": "usr_x", "duration_s": 30, "engine": "procedural", "seed": 1,
                     "attempts": 1, "audio_blob_id": "blob_1", "content_type": "audio/wav"],
        ])
        #expect(published.status == 200)
        let failed = try await poll("the tiers delivery to fail") { () -> JSONValue? in
            let items = try await k.request("GET", "/api/admin/events?topic=generation.completed", token: admin).json["items"].array ?? []
            return items.first { $0["subscriber"] == "tiers" && !$0["last_error"].isNull }
        }
        let error = failed["last_error"].string ?? ""
        #expect(error.contains("event_payload_invalid") && error.contains("quality"), "\(failed)")
        #expect(failed["status"] != "delivered")
    }

    /// Every required property present, none the schema does not list, each of its type.
    func conforms(_ value: JSONValue, to schema: JSONValue) -> Bool {
        if let types = schema["type"].array?.compactMap(\.string) ?? schema["type"].string.map({ [$0] }) {
            let name: String
            switch value {
            case .null: name = "null"
            case .bool: name = "boolean"
            case .integer: name = "integer"
            case .number(let n): name = n.rounded() == n ? "integer" : "number"
            case .string: name = "string"
            case .array: name = "array"
            case .object: name = "object"
            }
            guard types.contains(name) || (name == "integer" && types.contains("number")) else { return false }
        }
        if let items = value.array { return items.allSatisfy { conforms($0, to: schema["items"]) } }
        guard let object = value.object else { return true }
        let properties = schema["properties"].object ?? [:]
        for required in schema["required"].array?.compactMap(\.string) ?? [] where object[required] == nil { return false }
        for (key, member) in object {
            guard let sub = properties[key] else { return schema["additionalProperties"] != false }
            if !conforms(member, to: sub) { return false }
        }
        return true
    }
}

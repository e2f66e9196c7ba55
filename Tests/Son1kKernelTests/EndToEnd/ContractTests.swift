import Foundation
import Son1kPluginKit
import Testing

/// The API does what /openapi.json says: schemathesis (PyPI, in the test venv) generates
/// requests from the document for every operation of the shipped deployment and checks each
/// answer's status code, content type and body against what the operation documents.
@Suite struct ContractTests {
    @Test func schemathesisFindsNoAnswerThatDisagreesWithTheDocumentation() async throws {
        let shipped = try JSONValue.parse(Array(try Data(contentsOf: TestKernel.repositoryRoot.appendingPathComponent("plugins.json"))))
        let specs = (shipped["plugins"].array ?? []).map { p -> PluginSpec in
            var config = p["config"]
            // Generated requests create songs and speech: queue them, render none.
            if p["name"] == "generation" { config["builtin_workers"] = 0 }
            if p["name"] == "voice" { config["workers"] = 0 }
            return PluginSpec(name: p["name"].string ?? "", library: p["library"].string ?? "", config: config)
        }
        let k = try await TestKernel.start(specs, environment: ["SON1K_STEALTH_KEY": "contract-test-key"])
        defer { k.stop() }
        let user = try await k.register("contract")
        let admin = try await k.adminToken()

        // Every documented JSON answer is derived from its type: objects list their required
        // fields and refuse unknown ones (the hand-written schemas did neither).
        let document = try await k.request("GET", "/openapi.json").json
        var objects = 0
        for (path, operations) in document["paths"].object ?? [:] {
            for (method, operation) in operations.object ?? [:] {
                for (status, answer) in operation["responses"].object ?? [:] where status.hasPrefix("2") {
                    let schema = answer["content"]["application/json"]["schema"]
                    guard schema["type"] == "object", schema["properties"].object != nil else { continue }
                    objects += 1
                    // Without `required`, every field must be optional (nullable).
                    let optional = (schema["properties"].object ?? [:]).values.allSatisfy { $0["type"].array?.contains("null") == true }
                    #expect(schema["additionalProperties"] == false && (schema["required"].array != nil || optional),
                            "\(method.uppercased()) \(path) \(status): its schema is not derived from a type: \(schema)")
                }
            }
        }
        #expect(objects >= 60, "only \(objects) operations document a JSON object answer")

        var generated = 0
        for (who, token) in [("user", user.token), ("admin", admin)] {
            let run = try schemathesis(k.baseURL + "/openapi.json", token: token, workingIn: k.directory)
            let cases = Int(run.output.firstMatch(of: /(\d+) generated/)?.1 ?? "0") ?? 0
            generated += cases
            #expect(run.status == 0, "as \(who): \(run.output.suffix(6000))")
        }
        #expect(generated >= 2000, "\(generated) cases generated")
    }

    /// Run schemathesis with the three conformance checks; its exit status and what it printed.
    /// Runs in `folder` (the deployment's temporary one): schemathesis keeps a cache where it runs.
    func schemathesis(_ schema: String, token: String, workingIn folder: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.currentDirectoryURL = folder
        p.executableURL = TestKernel.repositoryRoot.appendingPathComponent(".build/test-venv/bin/schemathesis")
        p.arguments = ["run", schema, "--header", "Authorization: Bearer \(token)",
                       "--checks", "response_schema_conformance,content_type_conformance,status_code_conformance",
                       "--phases", "coverage,fuzzing", "--max-examples", "20", "--seed", "1", "--no-color"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        var env = ProcessInfo.processInfo.environment
        env["SCHEMATHESIS_HOOKS"] = nil
        p.environment = env
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

import Foundation
import Son1kPluginKit
import Testing

/// A plugin written in plain C against son1k_plugin.h alone loads and can use every host
/// function: the ABI needs nothing from Swift.
@Suite struct CPluginTests {
    @Test func theCPluginServesRoutesAndUsesEveryHostFunction() async throws {
        let k = try await TestKernel.start([.hello, .cplugin])
        defer { k.stop() }
        #expect(try await k.request("GET", "/api/cplugin/hello").json == ["message": "hello from C"])

        let admin = try await k.adminToken()
        let r = try await k.request("POST", "/api/cplugin/exercise?fetch=\(k.baseURL)/health", token: admin)
        #expect(r.status == 200, "\(r)")
        let x = r.json
        // config_get: validated config with the schema's defaults; secret_get: the secret's value.
        #expect(x["config"]["greeting"] == "hello from C")
        #expect(x["config"]["api_key"] == "c-secret")
        #expect(x["secret_length"] == 8)
        // The prefix guard refuses another owner's table.
        #expect(x["foreign_table"]["status"].int == -3)
        #expect(x["foreign_table"]["problem"]["code"] == "table_prefix_violation")
        // db_begin / db_exec / db_query in the transaction / db_commit; db_rollback undoes.
        #expect(x["exec"]["changes"] == 1)
        #expect(x["query_in_txn"] == [["event_id": "exercise-commit", "topic": "committed"]])
        #expect(x["commit"] == "ok")
        #expect(x["rollback"] == "ok")
        #expect(x["after_rollback"] == [["n": 0]])
        // publish: a hook without subscribers answers nothing (the payload unchanged, ABI 1.3);
        // an action returns its id.
        #expect(x["hook"] == .null)
        #expect(x["action"]["id"].string?.hasPrefix("evt_") == true)
        // call: a service of the Swift example plugin.
        #expect(x["call"]["status"] == 0)
        #expect(x["call"]["answer"] == ["message": "Hello, C!"])
        // http_fetch reaches an allowed host, and is refused elsewhere.
        #expect(x["fetch"]["status"] == 0)
        #expect(x["fetch"]["meta"]["status"] == 200)
        #expect(x["fetch"]["body"] == #"{"status":"ok"}"#)
        #expect(x["fetch_elsewhere"]["code"] == "egress_denied")
        // blob_put / blob_get / blob_delete.
        #expect(x["blob"]["size"] == 8)
        #expect(x["blob"]["content_type"] == "audio/wav")
        #expect(x["blob_roundtrip"] == true)
        #expect(x["blob_delete"] == "ok")
        #expect(x["blob_after_delete"].int == -2)
        // now_ms agrees with our clock.
        let now = Date().timeIntervalSince1970 * 1000
        #expect(abs((x["now_ms"].double ?? 0) - now) < 60_000)
        // log and metric reached the kernel.
        #expect(try await k.request("GET", "/metrics").text.contains(#"son1k_plugin_exercise_total{plugin="cplugin",route="exercise"} 1"#))
        #expect(k.log.contains("exercise: starting"))
        // schedule (from start) was accepted: the plugin is running, not failed.
        #expect(try await k.plugin("cplugin")["state"] == "running")
    }

    @Test func theCPluginReceivesActionsExactlyOncePerEvent() async throws {
        let k = try await TestKernel.start([.hello, .cplugin])
        defer { k.stop() }
        let user = try await k.register("cora")
        for name in ["A", "B", "C"] {
            #expect(try await k.request("POST", "/api/hello/greetings", token: user.token, json: .object(["name": .string(name)])).status == 201)
        }
        let items = try await poll("three deliveries") { () -> [JSONValue]? in
            let items = try await k.request("GET", "/api/cplugin/log").json["items"].array?.filter { $0["topic"] == "hello.greeted" } ?? []
            return items.count == 3 ? items : nil
        }
        #expect(Set(items.map(\.["event_id"])).count == 3)
    }
}

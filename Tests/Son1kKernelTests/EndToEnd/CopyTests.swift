import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

/// `son1k copy`: a populated SQLite deployment moved to PostgreSQL (and its blob contents to
/// an S3 bucket), then served from there: the same people sign in, the same songs download,
/// the same tier balances.
@Suite struct CopyTests {
    @Test func aCopiedDeploymentServesTheSameUsersSongsAndBalancesFromPostgreSQL() async throws {
        let plugins: [PluginSpec] = [.hello, .generation(["builtin_workers": 1]), .tiers()]
        let source = try await TestKernel.start(plugins, backend: .sqlite)
        defer { source.stop() }
        var people: [(email: String, id: String, token: String)] = []
        for name in ["ines", "jonas", "kemal"] {
            let user = try await source.register(name)
            people.append(("\(name)@test.local", user.id, user.token))
        }
        let song = try await source.generate(people[0].token, ["prompt": "a copied song", "duration_s": 5])
        let songID = try #require(song["id"].string)
        _ = try await source.job(songID, people[0].token, until: ["completed"])
        // Finished before the balances are read: a song completing after the reading would
        // change jonas's storage use before the copy.
        let another = try #require(try await source.generate(people[1].token, ["prompt": "another", "duration_s": 5])["id"].string)
        _ = try await source.job(another, people[1].token, until: ["completed"])
        let audio = try await source.request("GET", "/api/generations/\(songID)/audio", token: people[0].token)
        #expect(audio.status == 200 && audio.body.count > 44)
        let avatar = (0..<777).map { UInt8($0 % 200) }
        let avatarID = try #require(try await source.request("PUT", "/api/hello/avatar", token: people[2].token, body: avatar,
                                                             headers: ["Content-Type": "image/png"]).json["id"].string)
        // The tiers plugin hears of the stored songs through the outbox: the balances are read
        // once it has heard of all of them.
        _ = try await poll("tiers to hear of every song") { try await source.undelivered(to: "tiers") == 0 ? true : nil }
        var balances: [String: JSONValue] = [:]
        for p in people { balances[p.id] = try await source.limits(p.token) }
        _ = try await source.terminate(timeout: .seconds(20))
        let sourceDatabase = source.directory.appendingPathComponent("data/son1k.db").path
        let blobRecords = try #require(try await source.integer("SELECT COUNT(*) AS n FROM kernel_blobs"))
        let blobContents = try #require(try await source.integer("SELECT COUNT(DISTINCT sha256) AS n FROM kernel_blobs"))
        #expect(blobContents >= 3, "the two songs and the avatar")

        // The target: PostgreSQL, blobs in a bucket, the same plugins.
        let s3 = try await S3Fake.start()
        defer { s3.stop() }
        let url = try await onThread { try PostgresCluster.shared().freshDatabase() }
        let target = try TestKernel(plugins: plugins, kernel: ["blobs": s3.blobsBlock()], environment: ["DATABASE_URL": url], backend: .postgres)
        defer { target.stop() }
        let copied = try await target.cli(["copy", "--from", "sqlite:\(sourceDatabase)", "--to", url])
        #expect(copied.status == 0, "\(copied.output)")
        #expect(copied.output.contains("kernel_users: 4 rows"), "three users and the admin: \(copied.output)")
        #expect(copied.output.contains("blob contents: \(blobContents) uploaded"), "\(copied.output)")
        #expect(try await s3.objects().count == blobContents)

        let contents = try await tableRows(target)
        #expect(contents["kernel_users"]?.count == 4 && contents["kernel_blobs"]?.count == blobRecords && contents["generation_jobs"]?.count == 2)
        // Again, into the target it populated (not serving yet): refused unless asked, then a no-op.
        let again = try await target.cli(["copy", "--from", sourceDatabase, "--to", url])
        #expect(again.status == 1 && again.output.contains("the target already holds a deployment"), "\(again.output)")
        let forced = try await target.cli(["copy", "--from", sourceDatabase, "--to", url, "--into-non-empty"])
        #expect(forced.status == 0 && forced.output.contains("blob contents: 0 uploaded"), "\(forced.output)")
        #expect(try await tableRows(target) == contents, "copying the same source twice changes nothing")
        try await target.launch()
        for p in people {
            let login = try await target.request("POST", "/api/auth/login", json: ["email": .string(p.email), "password": "password-123"])
            #expect(login.status == 200 && login.json["user"]["id"].string == p.id, "\(login)")
            // A token the source signed is still good: the signing key came along.
            #expect(try await target.request("GET", "/api/auth/me", token: p.token).json["id"].string == p.id)
            #expect(try await target.limits(p.token) == balances[p.id], "tier balances of \(p.email)")
        }
        let moved = try await target.request("GET", "/api/generations/\(songID)/audio", token: people[0].token)
        #expect(moved.status == 200 && sameBytes(moved.body, audio.body).equal, "\(sameBytes(moved.body, audio.body).description)")
        let picture = try await target.request("GET", "/api/blobs/\(avatarID)", token: people[2].token)
        #expect(picture.status == 200 && picture.body == avatar)
        // New rows continue after the copied ids, and new users can join.
        #expect(try await target.register("newcomer").id.isEmpty == false)
        #expect(try await target.request("POST", "/api/hello/greetings", token: people[0].token, json: ["name": "after"]).status == 201)

    }

    @Test func badSourcesAndTargetsAreRefusedAndNothingIsWritten() async throws {
        let k = try TestKernel(plugins: [.hello], backend: .sqlite)
        defer { k.stop() }
        let missing = try await k.cli(["copy", "--from", "sqlite:/nonexistent/son1k.db", "--to", "postgres://x@127.0.0.1/y"])
        #expect(missing.status == 1 && missing.output.contains("there is no SQLite database at \"/nonexistent/son1k.db\""), "\(missing.output)")
        let file = k.directory.appendingPathComponent("empty.db").path
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let wrong = try await k.cli(["copy", "--from", file, "--to", "mysql://root:hunter2@db/son1k"])
        #expect(wrong.status == 1 && wrong.output.contains("--to must be a postgres:// URL") && !wrong.output.contains("hunter2"), "\(wrong.output)")
        let port = try PostgresCluster.freePort()
        let unreachable = try await k.cli(["copy", "--from", file, "--to", "postgres://son1k:hunter2@127.0.0.1:\(port)/son1k?sslmode=disable"])
        #expect(unreachable.status == 1 && unreachable.output.contains("127.0.0.1:\(port)") && !unreachable.output.contains("hunter2"), "\(unreachable.output)")
    }

    /// Every row of the kernel's and the plugins' main tables, on the target, in key order.
    private func tableRows(_ k: TestKernel) async throws -> [String: [StorageRow]] {
        var rows: [String: [StorageRow]] = [:]
        for table in ["kernel_users", "kernel_tokens", "kernel_settings", "kernel_events", "kernel_deliveries", "kernel_jobs", "kernel_blobs",
                      "generation_jobs", "tiers_usage", "hello_greetings"] {
            rows[table] = try await k.rows("SELECT * FROM \(table) ORDER BY 1")
        }
        return rows
    }
}

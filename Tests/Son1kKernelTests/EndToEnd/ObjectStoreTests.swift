import Foundation
import Son1kPluginKit
import Testing

/// Blob contents in an S3 bucket (`kernel.blobs.store = "s3"`) of a stand-in that checks
/// every signature: uploads land in the bucket, the kernel still decides who may read, and a
/// download is a redirect to a presigned URL that serves Range and stops working.
@Suite struct ObjectStoreTests {
    @Test func blobsLiveInTheBucketAndDownloadsRedirectToAPresignedURLThatExpires() async throws {
        let s3 = try await S3Fake.start()
        defer { s3.stop() }
        let k = try await TestKernel.start([.hello], kernel: ["blobs": s3.blobsBlock(["prefix": "son1k", "url_ttl_s": 3])])
        defer { k.stop() }
        let owner = try await k.register("olga")
        let stranger = try await k.register("piet")
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        let up = try await k.request("PUT", "/api/hello/avatar", token: owner.token, body: bytes, headers: ["Content-Type": "image/png"])
        #expect(up.status == 201, "\(up)")
        let id = try #require(up.json["id"].string)
        let sha = Crypto.sha256Hex(bytes)

        // In the bucket under the prefix and the content address; nothing on the local disk.
        #expect(try await s3.objects() == ["son1k/\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha)": 1000])
        let localBlobs = k.directory.appendingPathComponent("data/blobs").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: localBlobs)) ?? []).isEmpty)
        // The same bytes again are the same object.
        #expect(try await k.request("PUT", "/api/hello/avatar", token: owner.token, body: bytes, headers: ["Content-Type": "image/png"]).status == 201)
        #expect(try await s3.objects().count == 1)

        let path = "/api/blobs/\(id)"
        let redirect = try await k.request("GET", path, token: owner.token, followRedirects: false)
        #expect(redirect.status == 307, "\(redirect)")
        #expect(redirect.headers["cache-control"] == "no-store")
        let location = try #require(redirect.headers["location"])
        #expect(location.hasPrefix("\(s3.endpoint)/\(s3.bucket)/son1k/") && location.contains("X-Amz-Expires=3"), "\(location)")
        #expect(!location.contains(s3.secretAccessKey))
        #expect(try await k.request("GET", path, token: owner.token, headers: ["If-None-Match": "\"\(sha)\""]).status == 304)

        // The bucket serves the bytes: whole with the blob's type, or a range.
        let full = try await TestKernel.request("GET", location)
        #expect(full.status == 200 && full.body == bytes, "\(full)")
        #expect(full.headers["content-type"] == "image/png")
        let part = try await TestKernel.request("GET", location, headers: ["Range": "bytes=10-19"])
        #expect(part.status == 206 && part.body == Array(bytes[10...19]), "\(part)")
        #expect(part.headers["content-range"] == "bytes 10-19/1000")
        // A client following the redirect with its Range gets the range (its token stays behind).
        let followed = try await k.request("GET", path, token: owner.token, headers: ["Range": "bytes=-5"])
        #expect(followed.status == 206 && followed.body == Array(bytes[995...]), "\(followed)")

        // Who may read is still the kernel's decision.
        #expect(try await k.request("GET", path, token: stranger.token, followRedirects: false).status == 404)
        #expect(try await k.request("GET", path, followRedirects: false).status == 404)

        // A URL whose signature was altered is refused, and every URL stops working when it expires.
        let forged = String(location.dropLast()) + (location.hasSuffix("0") ? "1" : "0")
        #expect(try await TestKernel.request("GET", forged).status == 403)
        let expired = try await poll("the presigned URL to expire", timeout: .seconds(20), every: .milliseconds(250)) { () -> TestResponse? in
            let r = try await TestKernel.request("GET", location)
            return r.status == 200 ? nil : r
        }
        #expect(expired.status == 403 && expired.text.contains("expired"), "\(expired)")
        let again = try await k.request("GET", path, token: owner.token)
        #expect(again.status == 200 && again.body == bytes, "a new redirect carries a new URL: \(again)")
    }

    @Test func aBucketThatCannotBeUsedStopsStartUpNamingItAndNeverTheSecret() async throws {
        let s3 = try await S3Fake.start()
        defer { s3.stop() }
        // Start-up stops with 2 on what it found, with 64 (a usage error) on the config itself.
        let cases: [(JSONValue, Int32, String)] = [
            (["secret_access_key": "not-the-secret-at-all"], 2, "the S3 bucket \(s3.bucket) at \(s3.endpoint) answered 403 (the credentials are refused)"),
            (["bucket": "no-such-bucket"], 2, "the S3 bucket no-such-bucket at \(s3.endpoint) answered 404 (no such bucket)"),
            (["endpoint": .string("http://127.0.0.1:\(try PostgresCluster.freePort())")], 2, "cannot reach the S3 bucket \(s3.bucket)"),
            (["url_ttl_s": 0], 64, "kernel.blobs.url_ttl_s must be 1 to 604800 seconds"),
        ]
        for (overrides, status, sentence) in cases {
            let k = try TestKernel(plugins: [.hello], kernel: ["blobs": s3.blobsBlock(overrides)])
            defer { k.stop() }
            await #expect(throws: TestFailure.self) { try await k.launch() }
            #expect(k.process?.terminationStatus == status)
            #expect(k.log.contains(sentence), "log: \(k.log)")
            #expect(!k.log.contains("not-the-secret-at-all") && !k.log.contains(s3.secretAccessKey))
        }
    }
}

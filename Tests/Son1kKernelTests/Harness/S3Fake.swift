import Foundation
import Son1kPluginKit

/// S3 for the blob store tests: `Tests/Tools/s3_fake.py`, moto's server with its signature
/// checking on (and presigned URLs checked by botocore in front of it), holding one bucket
/// and one access key of its own.
final class S3Fake: @unchecked Sendable {
    let server: PythonServer
    var endpoint: String { server.base }
    var bucket: String { server.info["bucket"].string ?? "" }
    var accessKeyID: String { server.info["access_key_id"].string ?? "" }
    var secretAccessKey: String { server.info["secret_access_key"].string ?? "" }

    private init(server: PythonServer) { self.server = server }

    static func start(bucket: String = "son1k-blobs") async throws -> S3Fake {
        S3Fake(server: try await PythonServer.start("s3_fake", arguments: [bucket]))
    }

    func stop() { server.stop() }

    /// The `kernel.blobs` block for this bucket; `overrides` replace its fields.
    func blobsBlock(_ overrides: JSONValue = [:]) -> JSONValue {
        var block: JSONValue = [
            "store": "s3", "bucket": .string(bucket), "endpoint": .string(endpoint), "region": "us-east-1",
            "access_key_id": .string(accessKeyID), "secret_access_key": .string(secretAccessKey),
        ]
        for (k, v) in overrides.object ?? [:] { block[k] = v }
        return block
    }

    /// The bucket's keys and sizes, listed by botocore.
    func objects() async throws -> [String: Int] {
        let r = try await TestKernel.request("GET", endpoint + "/_objects")
        return Dictionary((r.json["objects"].array ?? []).compactMap { o in o["key"].string.map { ($0, o["size"].int ?? -1) } },
                          uniquingKeysWith: { first, _ in first })
    }
}

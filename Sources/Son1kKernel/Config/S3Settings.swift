import Foundation
import Son1kPluginKit

/// An S3-compatible bucket that holds blob contents for every instance of a deployment
/// (`kernel.blobs` in plugins.json). Blob records stay in the database either way.
///
/// ```json
/// "blobs": {"store": "s3", "bucket": "son1k-blobs", "region": "eu-west-1",
///           "access_key_id": "${AWS_ACCESS_KEY_ID}", "secret_access_key": "${AWS_SECRET_ACCESS_KEY}"}
/// ```
///
/// The environment fills what the block leaves out, under the names AWS's own tools read:
/// `SON1K_S3_BUCKET` (which alone selects this store), `AWS_REGION`, `AWS_ENDPOINT_URL_S3` or
/// `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
public struct S3Settings: Sendable {
    public var bucket: String
    public var region: String
    /// The service's base URL: AWS's regional endpoint unless set (MinIO, Ceph, R2, a stand-in).
    public var endpoint: URL
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`: on by default for
    /// an endpoint of one's own, since most S3-compatible servers expect it.
    public var pathStyle: Bool
    public var accessKeyID: String
    var secretAccessKey: String
    /// Put before every object key (`son1k/` keeps one bucket for several things).
    public var prefix: String
    /// How long a download redirect's presigned URL works.
    public var urlTTLSeconds: Int

    /// The store the `blobs` block and the environment ask for: nil for the filesystem.
    static func parse(_ block: JSONValue, environment env: (String) -> String?) throws -> S3Settings? {
        let store = block["store"].string ?? (block["bucket"].string ?? env("SON1K_S3_BUCKET") != nil ? "s3" : "filesystem")
        switch store {
        case "filesystem": return nil
        case "s3": break
        default: throw KernelConfig.Invalid(description: "kernel.blobs.store must be \"filesystem\" or \"s3\", not \"\(store)\"")
        }
        func text(_ key: String, _ variables: String...) -> String? {
            if let v = block[key].string, !v.isEmpty { return v }
            return variables.lazy.compactMap(env).first
        }
        guard let bucket = text("bucket", "SON1K_S3_BUCKET") else {
            throw KernelConfig.Invalid(description: "kernel.blobs.bucket (or SON1K_S3_BUCKET) is required for the s3 blob store")
        }
        let region = text("region", "AWS_REGION", "AWS_DEFAULT_REGION") ?? "us-east-1"
        guard let accessKeyID = text("access_key_id", "AWS_ACCESS_KEY_ID"), let secret = text("secret_access_key", "AWS_SECRET_ACCESS_KEY") else {
            throw KernelConfig.Invalid(description: "kernel.blobs: access_key_id and secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) are required for the s3 blob store")
        }
        let custom = text("endpoint", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
        let endpointText = custom ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText.hasSuffix("/") ? String(endpointText.dropLast()) : endpointText),
              ["http", "https"].contains(endpoint.scheme ?? ""), endpoint.host?.isEmpty == false else {
            throw KernelConfig.Invalid(description: "kernel.blobs.endpoint must be an http(s) URL, not \"\(endpointText)\"")
        }
        let ttl = block["url_ttl_s"].int ?? 300
        guard (1...604_800).contains(ttl) else {
            throw KernelConfig.Invalid(description: "kernel.blobs.url_ttl_s must be 1 to 604800 seconds (S3's limit is 7 days), not \(ttl)")
        }
        var prefix = block["prefix"].string ?? ""
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        return S3Settings(bucket: bucket, region: region, endpoint: endpoint, pathStyle: block["path_style"].bool ?? (custom != nil),
                          accessKeyID: accessKeyID, secretAccessKey: secret, prefix: prefix, urlTTLSeconds: ttl)
    }
}

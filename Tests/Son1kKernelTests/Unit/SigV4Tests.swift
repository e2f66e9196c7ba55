import Foundation
@testable import Son1kKernel
import Son1kPluginKit
import Testing

/// The kernel's SigV4 signer against botocore's own S3 signers (`Tests/Tools/sigv4_botocore.py`)
/// for the same requests at the same instant: the `Authorization` header of each kind of
/// request the S3 blob store sends, and a presigned download URL.
@Suite struct SigV4Tests {
    let signer = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "eu-west-1")
    /// 2026-12-03 09:08:07 UTC.
    let instant = Date(timeIntervalSince1970: 1_796_288_887)

    struct Signed {
        var method: String
        var url: String
        var headers: [String: String] = [:]
        var payload: [UInt8] = []
    }

    @Test func headerSignaturesAndPresignedURLsAreBotocoresForTheSameRequest() async throws {
        #expect(SigV4.timestamp(instant) == "20261203T090807Z")
        let key = "ab/cd/" + String(repeating: "abcd", count: 16)
        let requests = [
            Signed(method: "PUT", url: "http://127.0.0.1:9000/son1k-blobs/\(key)", headers: ["Content-Type": "audio/wav"],
                   payload: Array("RIFF....WAVEfmt ".utf8)),
            Signed(method: "GET", url: "https://son1k-blobs.s3.eu-west-1.amazonaws.com/\(key)", headers: ["Range": "bytes=10-19"]),
            Signed(method: "DELETE", url: "http://minio.internal:9000/son1k-blobs/\(SigV4.encodePath("my folder/ünï/\(key)"))"),
            Signed(method: "HEAD", url: "http://127.0.0.1:9000/son1k-blobs"),
            Signed(method: "GET", url: "http://127.0.0.1:9000/son1k-blobs?prefix=ab%2Fcd&list-type=2&max-keys=1"),
        ]
        let presigned: [(url: String, expires: Int)] = [
            ("http://127.0.0.1:9000/son1k-blobs/\(key)?response-content-type=\(SigV4.encode("audio/wav; codecs=1"))", 300),
            ("https://son1k-blobs.s3.eu-west-1.amazonaws.com/\(key)", 604_800),
        ]
        let job: JSONValue = [
            "access_key_id": .string(signer.accessKeyID), "secret_access_key": .string(signer.secretAccessKey),
            "region": .string(signer.region), "timestamp": .string(SigV4.timestamp(instant)),
            "signed": .array(requests.map { r in
                ["method": .string(r.method), "url": .string(r.url), "headers": .object(r.headers.mapValues { .string($0) }),
                 "payload_hex": .string(Crypto.hex(r.payload))]
            }),
            "presigned": .array(presigned.map { ["method": "GET", "url": .string($0.url), "expires": .integer(Int64($0.expires))] }),
        ]
        let botocore = try JSONValue.parse(try await PythonServer.output(of: "sigv4_botocore", input: Array(job.encoded())))

        for (i, r) in requests.enumerated() {
            let ours = signer.sign(method: r.method, url: URL(string: r.url)!, headers: r.headers, payload: r.payload, at: instant)
            #expect(ours["authorization"] == botocore["signed"][i].string, "\(r.method) \(r.url)")
            #expect(ours["x-amz-content-sha256"] == Crypto.sha256Hex(r.payload))
        }
        for (i, p) in presigned.enumerated() {
            let ours = signer.presign(url: URL(string: p.url)!, expires: p.expires, at: instant)
            #expect(ours == botocore["presigned"][i].string, "\(p.url)")
        }
    }

    @Test func anotherKeyOrInstantGivesAnotherSignature() {
        let url = URL(string: "http://127.0.0.1:9000/son1k-blobs/ab/cd/abcd")!
        let one = signer.sign(method: "GET", url: url, payload: [], at: instant)["authorization"]
        let later = signer.sign(method: "GET", url: url, payload: [], at: instant.addingTimeInterval(1))["authorization"]
        let other = SigV4(accessKeyID: signer.accessKeyID, secretAccessKey: "another-secret", region: signer.region)
        #expect(one != later)
        #expect(one != other.sign(method: "GET", url: url, payload: [], at: instant)["authorization"])
        #expect(one?.contains(signer.secretAccessKey) == false)
    }
}

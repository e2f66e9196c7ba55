import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

@Suite struct ConfigTests {
    @Test func environmentValuesAreSubstitutedWithDefaultsAndTypes() {
        let sub = EnvironmentSubstitution(environment: ["PORT": "9000", "NAME": "son1k", "EMPTY": ""])
        #expect(sub.apply("${PORT}") == 9000)
        #expect(sub.apply("${MISSING:-8080}") == 8080)
        #expect(sub.apply("${EMPTY:-fallback}") == "fallback")
        #expect(sub.apply("${MISSING}") == "")
        #expect(sub.apply("http://${NAME}:${PORT}/x") == "http://son1k:9000/x")
        #expect(sub.apply(["a": ["${NAME}", "${FLAG:-true}"]]) == ["a": ["son1k", true]])
    }

    @Test func environmentOverridesTheKernelBlock() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID()).json").path
        try Data(#"{"kernel":{"listen":"0.0.0.0:1","data_dir":"x"},"plugins":[{"name":"hello","library":"Son1kHello"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        let config = try KernelConfig.load(path: path, environment: ["SON1K_LISTEN": "127.0.0.1:9999", "SON1K_DATA_DIR": "/tmp/d", "SON1K_PLUGIN_PATH": "/a:/b"])
        #expect(config.settings.host == "127.0.0.1" && config.settings.port == 9999)
        #expect(config.settings.databasePath == "/tmp/d/son1k.db")
        #expect(config.settings.pluginPath == ["/a", "/b"])
        #expect(config.plugins.map(\.name) == ["hello"])
    }

    @Test func theShutdownDrainDefaultsToTenSecondsAndRefusesNonsense() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID()).json").path
        try Data(#"{"plugins":[]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try KernelConfig.load(path: path, environment: [:]).settings.shutdownDrainSeconds == 10)
        try Data(#"{"kernel":{"shutdown_drain_s":2.5},"plugins":[]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try KernelConfig.load(path: path, environment: [:]).settings.shutdownDrainSeconds == 2.5)
        try Data(#"{"kernel":{"shutdown_drain_s":0},"plugins":[]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try KernelConfig.load(path: path, environment: [:]) } throws: { "\($0)".contains("shutdown_drain_s") }
    }

    @Test func theBlobStoreIsTheFilesystemUnlessABucketIsNamedInTheBlockOrTheEnvironment() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID()).json").path
        func load(_ kernel: String, _ environment: [String: String] = [:]) throws -> KernelSettings {
            try Data(#"{"kernel":\#(kernel),"plugins":[]}"#.utf8).write(to: URL(fileURLWithPath: path))
            return try KernelConfig.load(path: path, environment: environment).settings
        }
        // AWS's variables alone change nothing: they may be there for something else.
        #expect(try load("{}", ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"]).s3 == nil)
        #expect(try load(#"{"blobs":{"store":"filesystem","bucket":"b"}}"#).s3 == nil)

        let aws = try #require(try load(#"{"blobs":{"bucket":"son1k","region":"eu-west-1","access_key_id":"id","secret_access_key":"secret"}}"#).s3)
        #expect(aws.endpoint.absoluteString == "https://s3.eu-west-1.amazonaws.com" && !aws.pathStyle)
        #expect(aws.urlTTLSeconds == 300 && aws.prefix == "")

        let env = try #require(try load(#"{"blobs":{"prefix":"son1k"}}"#, [
            "SON1K_S3_BUCKET": "media", "AWS_ENDPOINT_URL_S3": "http://minio:9000/", "AWS_REGION": "auto",
            "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
        ]).s3)
        #expect(env.bucket == "media" && env.region == "auto" && env.endpoint.absoluteString == "http://minio:9000")
        #expect(env.pathStyle && env.prefix == "son1k/" && env.accessKeyID == "id")

        for (block, sentence) in [
            (#"{"blobs":{"store":"gcs"}}"#, #"kernel.blobs.store must be "filesystem" or "s3", not "gcs""#),
            (#"{"blobs":{"store":"s3"}}"#, "kernel.blobs.bucket (or SON1K_S3_BUCKET) is required"),
            (#"{"blobs":{"bucket":"b"}}"#, "access_key_id and secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) are required"),
            (#"{"blobs":{"bucket":"b","access_key_id":"i","secret_access_key":"s","endpoint":"ftp://x"}}"#, "kernel.blobs.endpoint must be an http(s) URL"),
            (#"{"blobs":{"bucket":"b","access_key_id":"i","secret_access_key":"s","url_ttl_s":604801}}"#, "kernel.blobs.url_ttl_s must be 1 to 604800"),
        ] {
            #expect { try load(block) } throws: { "\($0)".contains(sentence) }
        }
    }

    @Test func aBadManifestIsRefusedWithTheReason() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID()).json").path
        try Data(#"{"plugins":[{"name":"Hello World"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: KernelConfig.Invalid.self) { try KernelConfig.load(path: path, environment: [:]) }
        #expect(throws: KernelConfig.Invalid.self) { try KernelConfig.load(path: "/nonexistent/plugins.json", environment: [:]) }
    }

    @Test func theSchemaValidatorNamesEachBadField() {
        let schema: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": ["name": ["type": "string", "minLength": 2], "limit": ["type": "integer", "minimum": 1, "maximum": 10],
                           "tiers": ["type": "array", "items": ["type": "string", "enum": ["free", "pro"]]]],
        ]
        #expect(SchemaValidator.validate(["name": "ok", "limit": 5, "tiers": ["free"]], against: schema).isEmpty)
        let errors = SchemaValidator.validate(["limit": 11.5, "tiers": ["gold"], "extra": 1], against: schema)
        #expect(errors.contains("name: is required"))
        #expect(errors.contains("limit: expected integer, got a number"))
        #expect(errors.contains("tiers[0]: must be one of \"free\", \"pro\""))
        #expect(errors.contains { $0.hasPrefix("extra: is not a known setting") })
    }
}

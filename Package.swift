// swift-tools-version:6.1
//
// One package holds the kernel, the plugin SDK, the first-party plugins, the CLI and the
// tests. Each plugin is a `.dynamic` library product so the kernel can dlopen() it.
import PackageDescription

/// Plugins export exactly one symbol, `son1k_plugin_entry`; everything else (including the
/// statically embedded copy of Son1kPluginKit) stays local to the shared object.
/// `unsafeFlags` is confined to plugin targets so outside packages can still depend on the SDK.
func pluginLinkerSettings(_ dir: String) -> [LinkerSetting] {
    [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/\(dir)/exports.map"])]
}

/// A plugin written in Swift against Son1kPluginKit, its entry point in the same module
/// (the style of an out-of-tree plugin; used by the test fixtures).
func swiftPlugin(_ name: String, path: String, dependencies: [Target.Dependency] = [], exclude: [String] = []) -> Target {
    .target(
        name: name,
        dependencies: ["Son1kPluginKit"] + dependencies,
        path: path,
        exclude: ["exports.map"] + exclude,
        linkerSettings: pluginLinkerSettings(path)
    )
}

/// A first-party plugin: its module (`name`) holds the plugin and its rules, and a second
/// one (`name` + "Entry", in `path`/Entry) only the exported C symbol. The shared object is
/// built from the entry module; the unit tests link the plugin modules, several at once,
/// which one symbol per module would forbid.
func firstPartyPlugin(_ name: String, path: String, dependencies: [Target.Dependency] = [], exclude: [String] = []) -> [Target] {
    [
        .target(name: name, dependencies: ["Son1kPluginKit"] + dependencies, path: path, exclude: ["exports.map", "Entry"] + exclude),
        .target(name: name + "Entry", dependencies: [.target(name: name)], path: path + "/Entry", linkerSettings: pluginLinkerSettings(path)),
    ]
}

/// The shared object the kernel dlopen()s for a first-party plugin.
func pluginProduct(_ name: String) -> Product {
    .library(name: name, type: .dynamic, targets: [name + "Entry"])
}

/// A plugin written in plain C against the header alone (used by tests).
func cPlugin(_ name: String, path: String) -> Target {
    .target(
        name: name,
        dependencies: ["CSon1kABI"],
        path: path,
        exclude: ["exports.map"],
        publicHeadersPath: ".",
        linkerSettings: pluginLinkerSettings(path)
    )
}

let package = Package(
    name: "son1k",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "son1k", targets: ["son1k"]),
        .library(name: "Son1kPluginKit", targets: ["Son1kPluginKit"]),
        // An in-process host for a plugin's unit tests: no kernel, no server, no socket.
        .library(name: "Son1kPluginTesting", targets: ["Son1kPluginTesting"]),
        pluginProduct("Son1kHello"),
        pluginProduct("Son1kGeneration"),
        pluginProduct("Son1kTiers"),
        pluginProduct("Son1kPool"),
        pluginProduct("Son1kBilling"),
        pluginProduct("Son1kStealth"),
        pluginProduct("Son1kLyrics"),
        pluginProduct("Son1kVoice"),
        // Test fixtures: real shared objects the loader tests dlopen().
        .library(name: "Son1kTestCPlugin", type: .dynamic, targets: ["Son1kTestCPlugin"]),
        .library(name: "Son1kTestFutureABI", type: .dynamic, targets: ["Son1kTestFutureABI"]),
        .library(name: "Son1kTestConflict", type: .dynamic, targets: ["Son1kTestConflict"]),
        .library(name: "Son1kTestFaulty", type: .dynamic, targets: ["Son1kTestFaulty"]),
        .library(name: "Son1kTestPlays", type: .dynamic, targets: ["Son1kTestPlays"]),
        .library(name: "Son1kTestOtherSwift", type: .dynamic, targets: ["Son1kTestOtherSwift"]),
        .library(name: "Son1kTestDuplicates", type: .dynamic, targets: ["Son1kTestDuplicates"]),
        .library(name: "Son1kTestTasks", type: .dynamic, targets: ["Son1kTestTasks"]),
        .library(name: "Son1kTestBadges", type: .dynamic, targets: ["Son1kTestBadges"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(name: "CSon1kABI"),
        .systemLibrary(name: "CSystemCrypto"),
        .systemLibrary(name: "CFluidSynth"),
        // Plugin egress through libcurl: per-request proxies, no redirects followed.
        .target(name: "CCurlFetch", linkerSettings: [.linkedLibrary("curl")]),
        // The SDK's cryptography is swift-crypto's, so a plugin builds without system headers.
        .target(name: "Son1kPluginKit", dependencies: ["CSon1kABI", .product(name: "Crypto", package: "swift-crypto")]),
        .systemLibrary(name: "CSQLite"),
        .target(name: "Son1kPluginTesting", dependencies: ["Son1kPluginKit", "CSon1kABI", "CSQLite"]),
        // The first-party plugins' events and services as types, for the plugins that build on them.
        .target(name: "Son1kContracts", dependencies: ["Son1kPluginKit"]),
        .target(
            name: "Son1kKernel",
            dependencies: [
                "CSon1kABI", "CSystemCrypto", "CCurlFetch", "Son1kPluginKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            name: "son1k",
            dependencies: [
                "Son1kKernel", "Son1kMusicEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The generation engines live in their own module: the plugin runs them in its
        // built-in workers and `son1k worker` runs them on remote machines.
        .target(name: "Son1kMusicEngine", dependencies: ["CFluidSynth", "Son1kAudio", "Son1kPluginKit"], path: "Plugins/Generation/Engine"),
        // WAV files and loudness, shared by the music engine and the voice plugin.
        .target(name: "Son1kAudio"),
        // Calls to external providers with accounts leased from the stealth plugin.
        .target(name: "Son1kProviderKit", dependencies: ["Son1kPluginKit", "Son1kContracts"]),
        .systemLibrary(name: "CVoiceLibraries"),
    ]
    + firstPartyPlugin("Son1kHello", path: "Plugins/Hello", dependencies: ["Son1kContracts"])
    + firstPartyPlugin("Son1kGeneration", path: "Plugins/Generation", dependencies: ["Son1kMusicEngine", "Son1kProviderKit", "Son1kContracts"], exclude: ["Engine"])
    + firstPartyPlugin("Son1kTiers", path: "Plugins/Tiers", dependencies: ["Son1kContracts"])
    + firstPartyPlugin("Son1kPool", path: "Plugins/Pool", dependencies: ["Son1kContracts", "Son1kAudio"])
    + firstPartyPlugin("Son1kBilling", path: "Plugins/Billing", dependencies: ["Son1kContracts"])
    + firstPartyPlugin("Son1kStealth", path: "Plugins/Stealth", dependencies: ["Son1kContracts"])
    + firstPartyPlugin("Son1kLyrics", path: "Plugins/Lyrics", dependencies: ["Son1kContracts"])
    + firstPartyPlugin("Son1kVoice", path: "Plugins/Voice", dependencies: ["CVoiceLibraries", "Son1kAudio", "Son1kProviderKit", "Son1kContracts"])
    + [
        cPlugin("Son1kTestCPlugin", path: "Tests/Plugins/CPlugin"),
        cPlugin("Son1kTestFutureABI", path: "Tests/Plugins/FutureABI"),
        cPlugin("Son1kTestConflict", path: "Tests/Plugins/Conflict"),
        swiftPlugin("Son1kTestFaulty", path: "Tests/Plugins/Faulty", dependencies: ["Son1kContracts"]),
        swiftPlugin("Son1kTestPlays", path: "Tests/Plugins/Plays"),
        cPlugin("Son1kTestOtherSwift", path: "Tests/Plugins/OtherSwift"),
        swiftPlugin("Son1kTestDuplicates", path: "Tests/Plugins/Duplicates", dependencies: ["Son1kContracts"]),
        swiftPlugin("Son1kTestTasks", path: "Tests/Plugins/Tasks"),
        swiftPlugin("Son1kTestBadges", path: "Tests/Plugins/Badges"),
        .testTarget(
            name: "Son1kKernelTests",
            dependencies: [
                "Son1kKernel", "Son1kMusicEngine",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The first-party plugins' rules, through Son1kPluginTesting: no kernel, no server.
        .testTarget(
            name: "Son1kPluginRulesTests",
            dependencies: ["Son1kPluginTesting", "Son1kContracts", "Son1kTiers", "Son1kBilling", "Son1kStealth", "Son1kPool"]
        ),
    ]
)

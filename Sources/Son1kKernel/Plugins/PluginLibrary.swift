import CSon1kABI
import Foundation
import Son1kPluginKit

/// Opens a plugin shared object and checks it can be trusted with the ABI.
///
/// Opened with RTLD_NOW (fail now on missing symbols, not mid-request), RTLD_LOCAL (the
/// plugin's embedded SDK cannot clash with another's) and RTLD_NODELETE, and never closed:
/// unloading a Swift image crashes the runtime, so reloading a plugin means restarting.
public struct PluginLibrary: @unchecked Sendable {
    public let path: String
    public let api: UnsafePointer<son1k_plugin_api_t>
    public let manifest: Manifest
    public let buildInfo: String

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public static let kernelABIMajor = UInt32(SON1K_ABI_MAJOR)
    public static let kernelABIMinor = UInt32(SON1K_ABI_MINOR)

    /// Size of the plugin table as ABI 1.0 defined it: the fields this kernel reads.
    static let minimumTableSize = UInt32(MemoryLayout<son1k_plugin_api_t>.size)

    public static func open(path: String) throws -> PluginLibrary {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw Refusal(description: "cannot load \(path): \(message)")
        }
        guard let symbol = dlsym(handle, SON1K_PLUGIN_ENTRY_SYMBOL) else {
            throw Refusal(description: "\(path) does not export \(SON1K_PLUGIN_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: son1k_plugin_entry_fn.self)
        guard let api = entry() else { throw Refusal(description: "\(path): \(SON1K_PLUGIN_ENTRY_SYMBOL) returned NULL") }

        let version = api.pointee.abi_version
        let (major, minor) = (version >> 16, version & 0xffff)
        guard major == kernelABIMajor else {
            throw Refusal(description: "ABI version mismatch: the plugin was built for ABI \(major).\(minor), this kernel speaks \(kernelABIMajor).\(kernelABIMinor) (majors must match)")
        }
        guard minor <= kernelABIMinor else {
            throw Refusal(description: "ABI version too new: the plugin needs ABI \(major).\(minor), this kernel speaks \(kernelABIMajor).\(kernelABIMinor); upgrade the kernel")
        }
        guard api.pointee.struct_size >= minimumTableSize else {
            throw Refusal(description: "the plugin table is \(api.pointee.struct_size) bytes, smaller than ABI \(major).0 requires (\(minimumTableSize))")
        }
        let buildInfo = api.pointee.build_info.map { String(cString: $0) } ?? ""
        if buildInfo.hasPrefix("swift"), buildInfo != BuildInfo.swiftCompiler {
            throw Refusal(description: "built by \(buildInfo) but the kernel runs \(BuildInfo.swiftCompiler); Swift has no stable ABI on Linux, rebuild the plugin with the kernel's toolchain")
        }
        guard !buildInfo.isEmpty else { throw Refusal(description: "the plugin does not say how it was built (build_info is empty)") }
        guard let manifestPointer = api.pointee.manifest else { throw Refusal(description: "the plugin has no manifest") }
        let manifestBytes = UnsafeRawBufferPointer(start: manifestPointer, count: api.pointee.manifest_len)
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
        } catch {
            throw Refusal(description: "the manifest is not valid: \(error)")
        }
        let problems = manifest.registrationProblems
        guard problems.isEmpty else {
            throw Refusal(description: "the plugin '\(manifest.name)' registered wrongly: \(problems.joined(separator: "; "))")
        }
        for required in [api.pointee.`init` != nil, api.pointee.handle_request != nil, api.pointee.handle_event != nil,
                         api.pointee.handle_call != nil, api.pointee.free_buffer != nil] where !required {
            throw Refusal(description: "the plugin table lacks a required function")
        }
        return PluginLibrary(path: path, api: api, manifest: manifest, buildInfo: buildInfo)
    }

    /// Find a library on the search path. `library` is a path (contains `/` or ends in
    /// `.so`) or a product name resolved to `lib<name>.so` in each directory in turn.
    public static func locate(_ library: String, searchPath: [String], relativeTo base: String) -> String? {
        let fm = FileManager.default
        if library.contains("/") || library.hasSuffix(".so") {
            let path = library.hasPrefix("/") ? library : (base as NSString).appendingPathComponent(library)
            return fm.fileExists(atPath: path) ? path : nil
        }
        for dir in searchPath {
            for name in ["lib\(library).so", "\(library).so"] {
                let candidate = (dir as NSString).appendingPathComponent(name)
                if fm.fileExists(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// The folder of the running executable: plugins built beside it are found without configuration.
    public static var executableDirectory: String {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent
    }
}

extension String {
    var deletingLastPathComponent: String { (self as NSString).deletingLastPathComponent }
}

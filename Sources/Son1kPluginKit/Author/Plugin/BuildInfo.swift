/// The toolchain identity written into `build_info`. Swift has no stable ABI on Linux, so
/// the kernel refuses a Swift plugin built by a different compiler release.
package enum BuildInfo {
    package static let swiftCompiler: String = {
        #if compiler(>=6.5)
        return "swift-6.5+"
        #elseif compiler(>=6.4)
        return "swift-6.4"
        #elseif compiler(>=6.3)
        return "swift-6.3"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #else
        return "swift-older"
        #endif
    }()
}

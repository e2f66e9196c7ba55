import CSon1kABI
import Foundation

/// Log lines tagged with the plugin's name and written by the kernel's logger.
public struct Log: Sendable {
    let host: HostBridge
    /// Details for debugging; off unless the kernel logs at debug level.
    public func debug(_ message: String) { write(SON1K_LOG_DEBUG, message) }
    /// Something worth knowing happened.
    public func info(_ message: String) { write(SON1K_LOG_INFO, message) }
    /// Something went wrong and was handled.
    public func warning(_ message: String) { write(SON1K_LOG_WARNING, message) }
    /// Something went wrong that an operator should look at.
    public func error(_ message: String) { write(SON1K_LOG_ERROR, message) }
    private func write(_ level: Int, _ message: String) {
        withUTF8Pointer(message) { host.api.pointee.log!(host.ctx, Int32(level), $0, $1) }
    }
}

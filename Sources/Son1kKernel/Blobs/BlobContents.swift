import Foundation
import Son1kPluginKit

/// Where blob contents live, by content address (`aa/bb/<sha256>`). ``BlobStore`` keeps the
/// records (owner, type, visibility) in the database and decides who may read what; an
/// implementation only stores bytes. Calls block and come from many threads at once.
protocol BlobContents: Sendable {
    func contains(_ key: String) throws -> Bool
    /// Store `bytes` under `key` whole or not at all: a reader never sees part of them.
    func write(_ key: String, _ bytes: [UInt8], contentType: String) throws
    func read(_ key: String) throws -> [UInt8]
    /// `count` bytes from `offset` (fewer at the end).
    func read(_ key: String, offset: Int, count: Int) throws -> [UInt8]
    /// Remove `key`; nothing happens when it is not there.
    func remove(_ key: String) throws
    /// A URL the client may fetch the contents from directly, for a short while, served as
    /// `contentType`; nil when only the kernel serves them.
    func downloadURL(_ key: String, contentType: String) -> String?
}

extension BlobContents {
    /// The error of contents a record points to but the store has lost, naming the content
    /// address an operator looks for (a hash, no secret).
    static func missing(_ key: String) -> Error {
        PluginError(status: 500, code: "blob_missing", detail: "The blob's contents (\(key)) are missing from storage.")
    }
}

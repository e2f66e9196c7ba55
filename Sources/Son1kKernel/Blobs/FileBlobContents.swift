import Foundation
import Son1kPluginKit

/// Blob contents as files under one folder (`<data_dir>/blobs` by default): one machine, or a
/// folder every instance mounts. A file is written under a temporary name and renamed, so a
/// reader never sees a partial one.
struct FileBlobContents: BlobContents {
    let root: String

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    private func path(_ key: String) -> String { "\(root)/\(key)" }

    func contains(_ key: String) -> Bool { FileManager.default.fileExists(atPath: path(key)) }

    func write(_ key: String, _ bytes: [UInt8], contentType: String) throws {
        let file = path(key)
        let fm = FileManager.default
        try fm.createDirectory(atPath: file.deletingLastPathComponent, withIntermediateDirectories: true)
        let temp = "\(file).\(Crypto.randomToken(6)).tmp"
        guard fm.createFile(atPath: temp, contents: Data(bytes)) else {
            throw PluginError(status: 500, code: "blob_write_failed", detail: "Cannot write the blob file.")
        }
        guard rename(temp, file) == 0 else {
            try? fm.removeItem(atPath: temp)
            throw PluginError(status: 500, code: "blob_write_failed", detail: "Cannot store the blob file.")
        }
    }

    func read(_ key: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(key)) else { throw Self.missing(key) }
        return Array(data)
    }

    func read(_ key: String, offset: Int, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path(key)) else { throw Self.missing(key) }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return Array(try handle.read(upToCount: count) ?? Data())
    }

    func remove(_ key: String) {
        try? FileManager.default.removeItem(atPath: path(key))
    }

    func downloadURL(_ key: String, contentType: String) -> String? { nil }
}

import Foundation
import Son1kKernel
import Testing

/// The kernel's two storage backends; suites that promise the same behaviour on both take
/// one as an argument.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// `DATABASE_URL` for a new, empty database of this backend ("" for SQLite: the kernel's
    /// data directory then holds the file).
    func freshDatabaseURL() throws -> String {
        switch self {
        case .sqlite: return ""
        case .postgres: return try PostgresCluster.shared().freshDatabase()
        }
    }

    /// A new, empty database opened as the kernel opens it (kernel tables migrated).
    func freshStorage(transactionTimeout: Double = 2) throws -> any Storage {
        var s = KernelSettings()
        s.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("son1k-storage-\(UUID())").path
        s.databaseURL = try freshDatabaseURL()
        s.transactionTimeoutSeconds = transactionTimeout
        return try KernelTools.openStorage(s)
    }
}

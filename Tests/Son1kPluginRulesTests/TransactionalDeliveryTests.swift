import Son1kPluginKit
import Son1kPluginTesting
import Testing

/// The test host delivers a `transactional` subscription as the kernel does, inside a
/// transaction: a handler that throws leaves no write behind. An ordinary subscription's
/// writes are its own, made before it threw.
@Suite struct TransactionalDeliveryTests {
    struct Entry: Codable, Sendable { var note: String; var refuse: Bool }

    struct Ledger: Plugin {
        static let manifest = Manifest(name: "ledger", version: "1.0.0")
        static let migrations: [Migration] = [.init(1, "CREATE TABLE ledger_rows (note TEXT NOT NULL)")]

        func register(_ r: inout Registry<NoConfig>) {
            r.onAction(Topic<Entry>("ledger.joined"), transactional: true) { event, ctx in try Self.write(event.payload, ctx) }
            r.onAction(Topic<Entry>("ledger.alone")) { event, ctx in try Self.write(event.payload, ctx) }
        }

        static func write(_ entry: Entry, _ ctx: Context<NoConfig>) throws {
            try ctx.db.transaction { tx in
                try tx.exec("INSERT INTO ledger_rows (note) VALUES (?)", [.text(entry.note)])
            }
            if entry.refuse { throw PluginError.conflict("Refused after writing.", code: "refused") }
        }
    }

    func notes(_ host: TestHost<Ledger>) throws -> [String] {
        try host.db.query("SELECT note FROM ledger_rows ORDER BY note").compactMap { $0["note"].string }
    }

    @Test func aTransactionalSubscriberThatThrowsLeavesNoWriteAndAnOrdinaryOneKeepsIts() throws {
        let host = try TestHost(Ledger.self)
        try host.deliver(Topic<Entry>("ledger.joined"), Entry(note: "a kept", refuse: false))
        #expect(throws: PluginError.self) { try host.deliver(Topic<Entry>("ledger.joined"), Entry(note: "b undone", refuse: true)) }
        #expect(throws: PluginError.self) { try host.deliver(Topic<Entry>("ledger.alone"), Entry(note: "c written before the refusal", refuse: true)) }
        #expect(try notes(host) == ["a kept", "c written before the refusal"])
    }

    struct Loose: Plugin {
        static let manifest = Manifest(name: "loose", version: "1.0.0")
        func register(_ r: inout Registry<NoConfig>) {
            r.onAction(Topic<Entry>("loose.joined"), isolation: .readCommitted) { _, _ in }
        }
    }

    @Test func anIsolationWithoutATransactionIsARegistrationMistake() {
        #expect { _ = try TestHost(Loose.self) } throws: { error in
            (error as? PluginError)?.detail.contains("the action handler for 'loose.joined' names an isolation but is not transactional") == true
        }
    }
}

import Foundation
import Son1kKernel
import Son1kPluginKit
import Testing

@Suite struct RouterTests {
    @Test func literalsBeatParametersAndWrongMethodsAreReported() throws {
        var router = RouteTable<String>()
        try router.add(method: "GET", path: "/api/users/{user_id}", owner: "a", target: "param")
        try router.add(method: "GET", path: "/api/users/me", owner: "a", target: "literal")
        try router.add(method: "POST", path: "/api/users/{id}", owner: "b", target: "post")
        guard case .found(let me) = router.resolve(method: "GET", path: "/api/users/me") else { Issue.record("no match"); return }
        #expect(me.target == "literal")
        guard case .found(let other) = router.resolve(method: "GET", path: "/api/users/u%201") else { Issue.record("no match"); return }
        #expect(other.target == "param" && other.params.first?.1 == "u 1")
        guard case .methodNotAllowed(let allow) = router.resolve(method: "DELETE", path: "/api/users/x") else { Issue.record("expected 405"); return }
        #expect(allow == ["GET", "HEAD", "POST"])
        guard case .notFound = router.resolve(method: "GET", path: "/api/users/x/y") else { Issue.record("expected 404"); return }
    }

    @Test func sameShapeWithDifferentParameterNamesIsAConflictNamingBothOwners() throws {
        var router = RouteTable<String>()
        try router.add(method: "GET", path: "/api/x/{id}", owner: "plugin 'a'", target: "1")
        #expect(throws: RouteTable<String>.Conflict.self) { try router.add(method: "GET", path: "/api/x/{name}", owner: "plugin 'b'", target: "2") }
        try router.add(method: "POST", path: "/api/x/{name}", owner: "plugin 'b'", target: "3")
    }
}

@Suite struct ByteRangeTests {
    @Test func parsesTheFormsAudioPlayersSend() {
        #expect(ByteRange.parse(nil, size: 100) == .full)
        #expect(ByteRange.parse("bytes=0-9", size: 100) == .partial(lower: 0, upper: 9))
        #expect(ByteRange.parse("bytes=90-", size: 100) == .partial(lower: 90, upper: 99))
        #expect(ByteRange.parse("bytes=-10", size: 100) == .partial(lower: 90, upper: 99))
        #expect(ByteRange.parse("bytes=50-500", size: 100) == .partial(lower: 50, upper: 99))
        #expect(ByteRange.parse("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=5-1", size: 100) == .full)
        #expect(ByteRange.parse("bytes=0-1,5-6", size: 100) == .full)
        #expect(ByteRange.parse("items=0-1", size: 100) == .full)
    }
}

@Suite struct IdentityPartsTests {
    @Test func jwtsVerifyOnlyWithTheRightSecretAndBeforeExpiry() {
        let signer = JWTSigner(secret: "s3cret", ttlSeconds: 60)
        let token = signer.sign(subject: "usr_1", role: "user", session: "ses_1")
        #expect(signer.verify(token)?.subject == "usr_1")
        #expect(JWTSigner(secret: "other", ttlSeconds: 60).verify(token) == nil)
        #expect(signer.verify(token, now: Date().addingTimeInterval(120)) == nil)
        var tampered = Array(token)
        tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
        #expect(signer.verify(String(tampered)) == nil)
    }

    @Test func bcryptHashesVerifyTheirPasswordOnly() throws {
        let hash = try PasswordHasher.hash("correct horse", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(PasswordHasher.verify("correct horse", hash: hash))
        #expect(!PasswordHasher.verify("correct horsE", hash: hash))
        #expect(try PasswordHasher.hash("correct horse", cost: 4) != hash)
    }
}

@Suite struct OrderingTests {
    @Test func topologicalOrderRespectsEdgesThenTieBreaks() throws {
        let order = try TopologicalOrder.sort(["pool", "tiers", "generation", "billing"],
                                              edges: [("generation", "tiers"), ("tiers", "pool"), ("tiers", "billing")], precedes: <)
        #expect(order == ["generation", "tiers", "billing", "pool"])
        #expect(throws: TopologicalOrder.Cycle.self) { try TopologicalOrder.sort(["a", "b", "c"], edges: [("a", "b"), ("b", "c"), ("c", "a")], precedes: <) }
    }
}

@Suite struct SealTests {
    @Test func sealedValuesOpenOnlyWithTheirKeyBytesAndContext() throws {
        let key = Crypto.sha256(Array("a key".utf8))
        let secret = Array("sk-live-0123456789abcdef".utf8)
        let sealed = Crypto.seal(secret, key: key, associatedData: Array("acct_1".utf8))
        #expect(sealed.count == 12 + secret.count + 16)
        #expect(!sealed.windows(ofCount: 8).contains { Array($0) == Array(secret.prefix(8)) }, "the plain text does not show")
        #expect(try Crypto.open(sealed, key: key, associatedData: Array("acct_1".utf8)) == secret)
        #expect(Crypto.seal(secret, key: key) != Crypto.seal(secret, key: key), "a fresh nonce each time")

        var tampered = sealed
        tampered[20] ^= 1
        #expect(throws: Crypto.OpenError.self) { try Crypto.open(tampered, key: key, associatedData: Array("acct_1".utf8)) }
        #expect(throws: Crypto.OpenError.self) { try Crypto.open(sealed, key: Crypto.sha256(Array("other".utf8)), associatedData: Array("acct_1".utf8)) }
        #expect(throws: Crypto.OpenError.self) { try Crypto.open(sealed, key: key, associatedData: Array("acct_2".utf8)) }
        #expect(throws: Crypto.OpenError.self) { try Crypto.open(Array(sealed.prefix(20)), key: key) }
    }
}

private extension Array {
    /// Every run of `count` consecutive elements.
    func windows(ofCount count: Int) -> [ArraySlice<Element>] {
        count > self.count ? [] : (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}

@Suite struct SubscriptionSpecTests {
    @Test func aReadCommittedSubscriptionIsSpelledInTheManifestAndOthersAreRefused() throws {
        let spec = SubscriptionSpec(topic: "tiers.released", kind: .action, transactional: true, isolation: .readCommitted)
        let json = try JSONEncoder().encode(spec)
        #expect(String(decoding: json, as: UTF8.self).contains(#""isolation":"read_committed""#))
        #expect(try JSONDecoder().decode(SubscriptionSpec.self, from: json) == spec)
        // A manifest written before isolation existed reads as serializable, and writes no field.
        let old = try JSONDecoder().decode(SubscriptionSpec.self, from: Data(#"{"topic":"a.b","kind":"action","transactional":true}"#.utf8))
        #expect(old.isolation == .serializable)
        #expect(!String(decoding: try JSONEncoder().encode(old), as: UTF8.self).contains("isolation"))
        #expect { try JSONDecoder().decode(SubscriptionSpec.self, from: Data(#"{"topic":"a.b","kind":"action","isolation":"snapshot"}"#.utf8)) } throws: { error in
            "\(error)".contains(#"isolation must be "serializable" or "read_committed", not "snapshot""#)
        }
    }
}

import Foundation
import Son1kPluginKit

/// Verification of Stripe's `Stripe-Signature` header, as Stripe documents it: the header is
/// `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`; each `v1` is HMAC-SHA256 over
/// `"<t>.<raw body>"` keyed with the whole endpoint secret (`whsec_…` included). Any matching
/// `v1` passes (two are sent while a secret is being rolled); other schemes are ignored; the
/// timestamp must be within `tolerance` seconds of now, so a captured request cannot be
/// replayed later.
enum WebhookSignature {
    enum Failure: Error, Equatable {
        case missingHeader, malformedHeader, noV1Signature, mismatch, outsideTolerance
    }

    static func verify(body: [UInt8], header: String?, secret: String, tolerance: Int, now: Date) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missingHeader }
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1].lowercased()) }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noV1Signature }
        let expected = Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body))
        guard signatures.contains(where: { Crypto.constantTimeEquals(Array($0.utf8), Array(expected.utf8)) }) else { throw .mismatch }
        guard abs(Int(now.timeIntervalSince1970) - timestamp) <= tolerance else { throw .outsideTolerance }
    }
}

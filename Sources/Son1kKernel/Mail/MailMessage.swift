import Foundation
import Son1kPluginKit

/// One plain-text message in the form SMTP carries (RFC 5322 headers, MIME UTF-8 text in
/// base64, CRLF line ends), so any address, name or language arrives intact.
struct MailMessage: Sendable {
    var from: String
    var to: String
    var subject: String
    var text: String
    /// `<…@son1k>`, unique per message (the log names messages by it, never by address).
    var messageID = "<\(IDs.make("msg"))@son1k>"

    /// The bytes handed to the SMTP client.
    func rendered(now: Date = Date()) -> [UInt8] {
        let date = Self.dateFormatter().string(from: now)
        var head = [
            "From: \(Self.header(from))",
            "To: \(to)",
            "Subject: \(Self.header(subject))",
            "Date: \(date)",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
        ].joined(separator: "\r\n")
        head += "\r\n\r\n"
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        let body = Data(normalized.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return Array((head + body + "\r\n").utf8)
    }

    /// A header value: as it is when plain ASCII, else an RFC 2047 encoded word. Line breaks
    /// never pass (they would start a header of the sender's choosing).
    static func header(_ value: String) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return flat }
        return "=?utf-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    /// RFC 5322's date: `Fri, 04 Dec 2026 21:22:47 +0000` (a formatter per message: one is
    /// not safe to share across threads, and mail is rare).
    static func dateFormatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f
    }
}

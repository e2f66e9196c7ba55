import Foundation
import Testing

/// Every example in Son1kPluginKit's documentation compiles: it appears, line for line, in
/// SDKExamples.swift or in a plugin's own (compiled) code.
@Suite struct SDKExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The paragraphs of each ```swift block of a `///` comment (an example's declarations,
    /// then its use, are separate paragraphs), as lines without indentation.
    static func examples(in file: URL) throws -> [[String]] {
        var found: [[String]] = []
        var current: [String]?
        func close() {
            if let paragraph = current, !paragraph.isEmpty { found.append(paragraph) }
        }
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("///") else { continue }
            let body = text.dropFirst(3).trimmingCharacters(in: .whitespaces)
            if current == nil, body == "```swift" { current = []; continue }
            guard current != nil else { continue }
            if body == "```" { close(); current = nil; continue }
            if body.isEmpty { close(); current = []; continue }
            current?.append(body)
        }
        return found
    }

    static func swiftFiles(under folder: String) -> [URL] {
        let base = root.appendingPathComponent(folder)
        let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
    }

    /// A file as its non-blank lines without indentation.
    static func lines(_ file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func contains(_ haystack: [String], _ needle: [String]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { start in Array(haystack[start..<start + needle.count]) == needle }
    }

    @Test func everyDocumentedExampleIsCompiledCode() throws {
        let sdk = Self.swiftFiles(under: "Sources/Son1kPluginKit")
        let compiled = try (Self.swiftFiles(under: "Tests/Son1kPluginRulesTests") + Self.swiftFiles(under: "Plugins")
                            + Self.swiftFiles(under: "Tests/Plugins")).map(Self.lines)
        var checked = 0
        for file in sdk {
            for example in try Self.examples(in: file) {
                checked += 1
                #expect(compiled.contains { Self.contains($0, example) },
                        "\(file.lastPathComponent): this example is not compiled anywhere:\n\(example.joined(separator: "\n"))")
            }
        }
        #expect(checked >= 25, "found only \(checked) example paragraphs in the SDK's documentation")
    }

    /// Every public declaration an author sees is documented; conformance requirements
    /// (`init(from:)`, `encode(to:)`, literal initialisers, `description`) say what their
    /// protocol says.
    @Test func everyPublicSymbolIsDocumented() throws {
        let witnesses = ["public init(from decoder", "public func encode(to encoder", "public func hash(into", "public var description: String",
                         "public init(nilLiteral", "public init(booleanLiteral", "public init(integerLiteral", "public init(floatLiteral",
                         "public init(stringLiteral", "public init(arrayLiteral", "public init(dictionaryLiteral"]
        var undocumented: [String] = []
        for file in Self.swiftFiles(under: "Sources/Son1kPluginKit") where !file.path.contains("/Host/") {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for (i, line) in lines.enumerated() where line.hasPrefix("public ") && !line.hasPrefix("public extension")
                && !witnesses.contains(where: line.hasPrefix) {
                var j = i - 1
                while j >= 0, lines[j].hasPrefix("@") { j -= 1 }
                if j < 0 || !lines[j].hasPrefix("///") { undocumented.append("\(file.lastPathComponent):\(i + 1) \(line.prefix(80))") }
            }
        }
        #expect(undocumented.isEmpty, "undocumented public symbols:\n\(undocumented.joined(separator: "\n"))")
    }
}

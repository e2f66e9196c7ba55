import Son1kPluginKit

/// Finds the complete entries of the `"sections"` array in a JSON document that is still
/// arriving, so each section can be passed on as soon as its closing brace is in.
struct SectionScanner {
    private var text: [UInt8] = []
    private var position = 0
    private var phase = Phase.seekingKey
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var elementStart = 0

    private enum Phase { case seekingKey, seekingArray, inArray, done }

    private static let key = Array("\"sections\"".utf8)

    /// Adds a piece of the document; returns the sections completed by it.
    mutating func feed(_ piece: String) -> [JSONValue] {
        text += piece.utf8
        var found: [JSONValue] = []
        while position < text.count {
            switch phase {
            case .seekingKey:
                guard text.count - position >= Self.key.count else { return found }
                if text[position..<(position + Self.key.count)].elementsEqual(Self.key) {
                    phase = .seekingArray
                    position += Self.key.count
                } else {
                    position += 1
                }
            case .seekingArray:
                if text[position] == UInt8(ascii: "[") { phase = .inArray }
                position += 1
            case .inArray:
                let c = text[position]
                if inString {
                    if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                } else if c == UInt8(ascii: "\"") {
                    inString = true
                } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    if depth == 0 { elementStart = position }
                    depth += 1
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    if depth == 0 {
                        phase = .done
                    } else {
                        depth -= 1
                        if depth == 0, let element = try? JSONValue.parse(Array(text[elementStart...position])) { found.append(element) }
                    }
                }
                position += 1
            case .done:
                return found
            }
        }
        return found
    }
}

import Foundation

/// A POST whose streamed answer is read as it arrives (`curl -sN`), for routes that stream
/// NDJSON: the test sees each line when the server sends it.
final class StreamingRequest {
    private let curl = Process()
    private let output = Pipe()
    private var received: [UInt8] = []

    init(_ url: String) throws {
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sN", "-X", "POST", url]
        curl.standardOutput = output
        try curl.run()
    }

    /// Blocks until the first complete line arrived (or the answer ended) and returns it.
    func firstLine() -> [UInt8] {
        while !received.contains(UInt8(ascii: "\n")) {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            received += data
        }
        return Array(received.split(separator: UInt8(ascii: "\n")).first ?? [])
    }

    /// Reads to the end of the answer: the number of complete lines received in all, and
    /// curl's exit status (0 when the answer ended as HTTP says it should).
    func finish() -> (lines: Int, status: Int32) {
        received += output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return (received.filter { $0 == UInt8(ascii: "\n") }.count, curl.terminationStatus)
    }

    /// The client leaves without a word.
    func kill() {
        Foundation.kill(curl.processIdentifier, SIGKILL)
        curl.waitUntilExit()
    }

    deinit { if curl.isRunning { kill() } }
}

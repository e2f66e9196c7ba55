import Foundation
import HummingbirdWSClient
import Logging
import Son1kPluginKit
import Synchronization

/// A real WebSocket client on `/api/events/ws`, collecting the event envelopes it receives.
final class EventSocket: Sendable {
    private let received = Mutex<[JSONValue]>([])
    private let connected = Mutex(false)
    private let task = Mutex<Task<WebSocketCloseFrame?, any Error>?>(nil)

    /// Connect as the holder of `token`; returns once the socket is open.
    static func open(_ k: TestKernel, token: String) async throws -> EventSocket {
        let socket = EventSocket()
        let url = k.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/events/ws?token=\(token)"
        let task = Task {
            try await WebSocketClient.connect(url: url, logger: Logger(label: "test-ws")) { inbound, _, _ in
                socket.connected.withLock { $0 = true }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message, let event = try? JSONValue.parse(Array(text.utf8)) {
                        socket.received.withLock { $0.append(event) }
                    }
                }
            }
        }
        socket.task.withLock { $0 = task }
        let failure = Mutex<String?>(nil)
        Task { do { _ = try await task.value } catch { failure.withLock { $0 = "\(error)" } } }
        // Generous: with every suite running at once on two cores, a connect can queue for seconds.
        _ = try await poll("the WebSocket to connect", timeout: .seconds(30)) { () -> Bool? in
            if let failure = failure.withLock({ $0 }) { throw TestFailure("the WebSocket could not connect: \(failure)") }
            return socket.connected.withLock { $0 } ? true : nil
        }
        return socket
    }

    /// Every event received so far, in arrival order.
    var events: [JSONValue] { received.withLock { $0 } }

    func close() { task.withLock { $0 }?.cancel() }

    /// Waits until the server closes the connection; returns the close frame it sent (nil
    /// when the connection ended without one).
    func closedByServer(timeout: Duration) async throws -> WebSocketCloseFrame? {
        guard let task = task.withLock({ $0 }) else { return nil }
        return try await withThrowingTaskGroup(of: WebSocketCloseFrame?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestFailure("the server did not close the WebSocket within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}

import Foundation
import NIOCore
import Son1kPluginKit
import Synchronization

/// The streamed response of one request to a route that declares `stream`: the plugin's
/// handler thread sends the head and then chunks (host function `response_stream`); the HTTP
/// side answers with the head as soon as it exists and forwards chunks as they come.
final class ResponseStream: Sendable {
    struct Head: Sendable {
        var status: Int
        var headers: [(String, String)]
    }

    let id: UInt64
    /// The plugin that may write to it.
    let plugin: String
    let chunks: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation

    private struct State {
        var head: Head?
        var finished = false
        var clientGone = false
        var waiter: CheckedContinuation<Head?, Never>?
    }
    private let state = Mutex(State())

    init(id: UInt64, plugin: String) {
        self.id = id
        self.plugin = plugin
        (chunks, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    }

    enum WriteError: Error { case headTwice, noHead, clientGone }

    /// From the handler thread: the head (once), then body bytes.
    func write(head: Head?, data: [UInt8]) throws(WriteError) {
        let waiter: CheckedContinuation<Head?, Never>? = try state.withLock { (s: inout State) throws(WriteError) -> CheckedContinuation<Head?, Never>? in
            if s.clientGone { throw .clientGone }
            var toResume: CheckedContinuation<Head?, Never>?
            if let head {
                guard s.head == nil else { throw .headTwice }
                s.head = head
                toResume = s.waiter
                s.waiter = nil
            } else if s.head == nil {
                throw .noHead
            }
            return toResume
        }
        waiter?.resume(returning: head)
        if !data.isEmpty { continuation.yield(ByteBuffer(bytes: data)) }
    }

    /// The handler returned: the body ends (chunks already sent are still delivered), and a
    /// request that never streamed is answered the usual way.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<Head?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.head == nil ? s.waiter : nil
        }
        waiter?.resume(returning: nil)
        continuation.finish()
    }

    /// The client stopped reading: later writes fail, so the plugin can stop producing.
    func clientWentAway() {
        state.withLock { $0.clientGone = true }
        continuation.finish()
    }

    /// The head once the handler sends it, or nil when it finished without streaming.
    func waitForHead() async -> Head? {
        await withCheckedContinuation { (c: CheckedContinuation<Head?, Never>) in
            let ready: Head?? = state.withLock { s in
                if let head = s.head { return .some(head) }
                if s.finished { return .some(nil) }
                s.waiter = c
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

/// The streams of requests in progress, by handle.
final class ResponseStreams: Sendable {
    private let table = Mutex<[UInt64: ResponseStream]>([:])
    private let next = Atomic<UInt64>(1)

    func open(plugin: String) -> ResponseStream {
        let stream = ResponseStream(id: next.add(1, ordering: .relaxed).oldValue, plugin: plugin)
        table.withLock { $0[stream.id] = stream }
        return stream
    }

    func get(_ id: UInt64) -> ResponseStream? { table.withLock { $0[id] } }

    func close(_ stream: ResponseStream) {
        stream.finish()
        _ = table.withLock { $0.removeValue(forKey: stream.id) }
    }
}

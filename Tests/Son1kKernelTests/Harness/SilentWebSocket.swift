import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket peer that upgrades and then goes quiet: it never reads while connected and
/// never answers a close frame, like a suspended laptop or a client stuck in its own code. A
/// server must not wait for it forever. Spoken over a plain TCP socket, so the test sees the
/// exact frames the server wrote.
final class SilentWebSocket: @unchecked Sendable {
    private let fd: Int32

    /// Connect to `/api/events/ws` as the holder of `token`; returns once the server answered 101.
    init(port: Int, token: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw TestFailure("connect: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = """
            GET /api/events/ws?token=\(token) HTTP/1.1\r
            Host: 127.0.0.1:\(port)\r
            Upgrade: websocket\r
            Connection: Upgrade\r
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
            Sec-WebSocket-Version: 13\r
            \r

            """
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            close(fd)
            throw TestFailure("could not send the upgrade request")
        }
        var head: [UInt8] = []
        while !head.ends(with: [13, 10, 13, 10]) {
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 1 else { close(fd); throw TestFailure("no upgrade answer: \(String(decoding: head, as: UTF8.self))") }
            head.append(byte)
        }
        let status = String(decoding: head, as: UTF8.self).split(separator: "\r\n").first ?? ""
        guard status.contains(" 101 ") else { close(fd); throw TestFailure("upgrade refused: \(status)") }
    }

    deinit { close(fd) }

    /// Reads everything the server sent until it closed the connection (up to the socket's
    /// 10 s receive timeout) and returns the code of the close frame among it, or nil.
    func closeCodeSentByServer() -> UInt16? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        // Server frames are unmasked: opcode in the low nibble of byte 0, then the length.
        var i = 0
        while i + 2 <= received.count {
            let opcode = received[i] & 0x0F
            var length = Int(received[i + 1] & 0x7F), start = i + 2
            if length == 126, start + 2 <= received.count {
                length = Int(received[start]) << 8 | Int(received[start + 1])
                start += 2
            } else if length == 127 {
                return nil
            }
            guard start + length <= received.count else { return nil }
            if opcode == 0x8, length >= 2 { return UInt16(received[start]) << 8 | UInt16(received[start + 1]) }
            i = start + length
        }
        return nil
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

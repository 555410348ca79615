import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP client on loopback, for requests no HTTP library would send: oversized header lines, a
/// `Content-Length` with no body behind it, repeated headers, raw bytes in the path.
package enum RawHTTP {
    /// Sends `request` to `127.0.0.1:port`, then reads until the peer closes, `timeout` passes, or a whole response
    /// head has arrived; returns what was read. Sending stops early (without error) if the peer closes.
    package static func exchange(_ request: [UInt8], port: Int, timeout: TimeInterval = 10) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED) }
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes {
                send(socket, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { break }
            sent += count
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
            if count <= 0 { break }
            response += chunk[0..<count]
            if let text = String(validating: response, as: UTF8.self), let head = text.range(of: "\r\n\r\n"),
                let length = text[..<head.lowerBound].split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-length:")
                }).flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
                text.utf8.count - text[..<head.upperBound].utf8.count >= length
            {
                break
            }
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// The status code of a raw response, or nil.
    package static func status(_ response: String) -> Int? {
        guard response.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(response.dropFirst(9).prefix(3))
    }
}

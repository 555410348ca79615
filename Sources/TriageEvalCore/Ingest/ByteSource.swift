import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors reading input files.
package enum InputError: LocalizedError, Equatable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case corruptGzip(path: String, reason: String)
    /// The file should hold one JSON document and does not.
    case notJSON(path: String, reason: String)

    package var errorDescription: String? {
        switch self {
        case .cannotOpen(let path, let reason): return "\(path): cannot open: \(reason)"
        case .readFailed(let path, let reason): return "\(path): read failed: \(reason)"
        case .corruptGzip(let path, let reason): return "\(path): not a valid gzip stream: \(reason)"
        case .notJSON(let path, let reason): return "\(path): not JSON: \(reason)"
        }
    }
}

/// A stream of bytes from a file or standard input, transparently gunzipped when it starts with the gzip magic.
///
/// Reads in 256 KiB chunks so that memory stays flat however large the input is.
package final class ByteSource {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private var raw = [UInt8](repeating: 0, count: 256 * 1024)
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false
    private var isGzip = false
    // zlib keeps a pointer back to its z_stream and refuses one that moved, so it lives at a fixed address.
    private let stream: UnsafeMutablePointer<z_stream> = {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        return stream
    }()
    private var streamActive = false
    private var decided = false

    /// Opens a file, or standard input for `-`.
    /// - Throws: ``InputError/cannotOpen(path:reason:)``.
    package init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw InputError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            fd = descriptor
            ownsDescriptor = true
        }
    }

    deinit {
        if streamActive { inflateEnd(stream) }
        stream.deallocate()
        if ownsDescriptor { close(fd) }
    }

    private func fillRaw() throws {
        if rawStart > 0 {
            if rawStart < rawEnd {
                raw.withUnsafeMutableBytes { buffer in
                    let base = buffer.baseAddress!
                    memmove(base, base + rawStart, rawEnd - rawStart)
                }
            }
            rawEnd -= rawStart
            rawStart = 0
        }
        guard rawEnd < raw.count, !rawEOF else { return }
        let count = raw.withUnsafeMutableBytes { buffer in
            Glibc.read(fd, buffer.baseAddress! + rawEnd, buffer.count - rawEnd)
        }
        if count < 0 { throw InputError.readFailed(path: path, reason: String(cString: strerror(errno))) }
        if count == 0 { rawEOF = true }
        rawEnd += count
    }

    private func startInflate() throws {
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw InputError.corruptGzip(path: path, reason: "inflateInit failed (\(status))") }
        streamActive = true
    }

    /// Reads up to `capacity` bytes into `destination`; returns 0 at the end of the input.
    package func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        if !decided {
            while rawEnd - rawStart < 2 && !rawEOF { try fillRaw() }
            isGzip = rawEnd - rawStart >= 2 && raw[rawStart] == 0x1F && raw[rawStart + 1] == 0x8B
            if isGzip { try startInflate() }
            decided = true
        }
        if !isGzip {
            if rawStart == rawEnd {
                rawStart = 0
                rawEnd = 0
                try fillRaw()
            }
            let count = min(destination.count, rawEnd - rawStart)
            raw.withUnsafeBytes { source in
                destination.baseAddress!.copyMemory(from: source.baseAddress! + rawStart, byteCount: count)
            }
            rawStart += count
            return count
        }
        while true {
            if rawStart == rawEnd {
                if rawEOF {
                    if streamActive && stream.pointee.total_in > 0 {
                        throw InputError.corruptGzip(path: path, reason: "truncated gzip stream")
                    }
                    return 0
                }
                try fillRaw()
                continue
            }
            if !streamActive {
                // Concatenated gzip members (as `cat a.gz b.gz` makes) continue the same stream.
                try startInflate()
            }
            let produced: Int = try raw.withUnsafeMutableBytes { source in
                stream.pointee.next_in = source.baseAddress!.assumingMemoryBound(to: Bytef.self) + rawStart
                stream.pointee.avail_in = uInt(rawEnd - rawStart)
                stream.pointee.next_out = destination.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(destination.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let consumed = (rawEnd - rawStart) - Int(stream.pointee.avail_in)
                rawStart += consumed
                let out = destination.count - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_STREAM_END:
                    inflateEnd(stream)
                    streamActive = false
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "inflate error \(status)"
                    throw InputError.corruptGzip(path: path, reason: message)
                }
                return out
            }
            if produced > 0 { return produced }
            if !streamActive && rawStart == rawEnd && rawEOF { return 0 }
        }
    }
}

/// Splits a ``ByteSource`` into lines (LF-terminated; a CR before the LF is dropped), streaming.
package final class LineReader {
    private let source: ByteSource
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var eof = false
    /// The 1-based number of the line last returned.
    package private(set) var lineNumber = 0

    /// Reads lines from `source`.
    package init(source: ByteSource) {
        self.source = source
    }

    /// Calls `body` with the next line's bytes (without its terminator); returns false at the end of input.
    ///
    /// The buffer passed to `body` is valid only during the call.
    package func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        var scanFrom = start
        while true {
            let newline: Int? = buffer.withUnsafeBufferPointer { bytes in
                guard scanFrom < end else { return nil }
                let base = bytes.baseAddress! + scanFrom
                guard let found = memchr(base, 0x0A, end - scanFrom) else { return nil }
                return scanFrom + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
            }
            if let newline {
                lineNumber += 1
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let lineStart = start
                start = newline + 1
                return try buffer.withUnsafeBufferPointer { bytes in
                    try body(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]))
                }
            }
            if eof {
                guard start < end else { return nil }
                lineNumber += 1
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let lineStart = start
                start = end
                return try buffer.withUnsafeBufferPointer { bytes in
                    try body(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]))
                }
            }
            // Compact, grow if a single line fills the buffer, then read more.
            scanFrom = end - start
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let base = raw.baseAddress!
                    memmove(base, base + start, end - start)
                }
                end -= start
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let count = try buffer.withUnsafeMutableBytes { raw in
                try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
            }
            if count == 0 { eof = true }
            end += count
        }
    }

    /// Reads everything that is left as one unit.
    package func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        if start < end { all.append(contentsOf: buffer[start..<end]) }
        start = end
        while true {
            let count = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            all.append(contentsOf: chunk[0..<count])
        }
        return all
    }
}

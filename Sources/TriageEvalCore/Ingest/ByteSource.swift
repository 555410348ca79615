import CZlib
import Crypto
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
    /// A line (or a whole-file unit) is longer than the reader holds.
    case lineTooLong(path: String, line: Int, limit: Int)

    package var errorDescription: String? {
        switch self {
        case .cannotOpen(let path, let reason): return "\(path): cannot open: \(reason)"
        case .readFailed(let path, let reason): return "\(path): read failed: \(reason)"
        case .corruptGzip(let path, let reason): return "\(path): not a valid gzip stream: \(reason)"
        case .notJSON(let path, let reason): return "\(path): not JSON: \(reason)"
        case .lineTooLong(let path, let line, let limit):
            return "\(path):\(line): line longer than \(limit) bytes"
        }
    }

    /// The reason alone, without the path.
    package var reason: String {
        switch self {
        case .cannotOpen(_, let reason): return "cannot open: \(reason)"
        case .readFailed(_, let reason): return "read failed: \(reason)"
        case .corruptGzip(_, let reason): return "not a valid gzip stream: \(reason)"
        case .notJSON(_, let reason): return "not JSON: \(reason)"
        case .lineTooLong(_, _, let limit): return "line longer than \(limit) bytes"
        }
    }
}

/// A stream of bytes from a file or standard input, transparently gunzipped when it starts with the gzip magic.
///
/// Reads in 256 KiB chunks so that memory stays flat however large the input is.
package final class ByteSource {
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// The file's name as given (`-` for standard input).
    package let path: String
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
    package convenience init(path: String) throws {
        try self.init(systemPath: path == "-" ? nil : Array(path.utf8), displayPath: path)
    }

    /// Opens a file by the bytes of its name (which need not be UTF-8), or standard input for nil.
    /// - Parameters:
    ///   - systemPath: the path's bytes, as the file system has them; nil for standard input.
    ///   - displayPath: how errors name it.
    /// - Throws: ``InputError/cannotOpen(path:reason:)``.
    package init(systemPath: [UInt8]?, displayPath: String) throws {
        self.path = displayPath
        guard let systemPath else {
            fd = 0
            ownsDescriptor = false
            return
        }
        let descriptor = (systemPath + [0]).withUnsafeBufferPointer { name in
            name.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY) }
        }
        guard descriptor >= 0 else {
            throw InputError.cannotOpen(path: displayPath, reason: String(cString: strerror(errno)))
        }
        fd = descriptor
        ownsDescriptor = true
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

    /// The SHA-256 (hex) of the file's bytes as stored (before any inflating), read in chunks; call it on a
    /// fresh source, instead of reading.
    package func rawSha256() throws -> String {
        var hasher = SHA256()
        while true {
            rawStart = 0
            rawEnd = 0
            try fillRaw()
            if rawEnd == 0 { break }
            raw.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<rawEnd])) }
        }
        return Digest.hex(hasher.finalize())
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

/// Splits a ``ByteSource`` into lines (LF-terminated; a CR before the LF is dropped), streaming, with a bound on
/// the memory a line may take.
///
/// Two ways to read:
/// - ``nextLine(_:)`` for files whose every line must fit (replies, sidecars): a line over the limit is an
///   ``InputError/lineTooLong(path:line:limit:)`` naming the file and line.
/// - ``nextUnit(_:)`` for ingest, where a too-long line or a broken gzip stream is data to quarantine, not an
///   error: it hands over a bounded ``Fragment`` instead and reading goes on (after a break, at the end).
///
/// Whatever the input, the reader holds at most the limit plus one read chunk.
package final class LineReader {
    /// What is kept of a unit that was not read whole: its first bytes, its size and its hash.
    package struct Fragment: Sendable, Equatable {
        /// The unit's first bytes (at most ``LineReader/fragmentPrefixBytes``).
        package var prefix: [UInt8]
        /// How many bytes of the unit were read (all of it when it was too long; up to the break when broken).
        package var byteCount: Int
        /// SHA-256 (hex) of the bytes read.
        package var sha256: String
        /// Why the unit is a fragment: nil when too long, the stream's error when the input broke inside it.
        package var breakReason: String?
    }

    /// One unit of input.
    package enum Unit {
        /// A whole line (no terminator); valid only during the call.
        case line(UnsafeBufferPointer<UInt8>)
        /// A line over the limit, or the tail of a broken stream.
        case fragment(Fragment)
    }

    /// A whole-file unit: its bytes, or a fragment when over the limit or broken.
    package enum WholeUnit {
        case bytes([UInt8])
        case fragment(Fragment)
    }

    /// How much of a fragment is kept: enough to recognise it, never the whole of a huge unit.
    package static let fragmentPrefixBytes = 4096
    /// The line limit used when a caller names none: 64 MiB, far above any real reply or webhook body.
    package static let defaultLineLimit = 64 << 20

    private let source: ByteSource
    private let path: String
    private let limit: Int
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var eof = false
    /// The stream's error, once reading broke; the rest of the input is lost.
    package private(set) var breakError: InputError?
    /// The 1-based number of the line last returned.
    package private(set) var lineNumber = 0
    /// The size of the line buffer: never more than the limit plus a CR LF and one read chunk (1 MiB).
    package var bufferSize: Int { buffer.count }

    /// Reads lines from `source`.
    /// - Parameters:
    ///   - source: the bytes.
    ///   - path: the file's name for errors (defaults to the source's).
    ///   - limit: the longest line held in memory, terminator excluded.
    package init(source: ByteSource, limit: Int = LineReader.defaultLineLimit) {
        self.source = source
        self.path = source.path
        self.limit = max(limit, 1)
        if self.limit + 2 < buffer.count { buffer = [UInt8](repeating: 0, count: max(self.limit + 2, 4096)) }
    }

    /// Calls `body` with the next line's bytes (without its terminator); returns nil at the end of input.
    ///
    /// The buffer passed to `body` is valid only during the call.
    /// - Throws: ``InputError/lineTooLong(path:line:limit:)`` for a line over the limit, the stream's error if it
    ///   breaks, or what `body` throws.
    package func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        let result: T?? = try nextUnit { unit -> T? in
            switch unit {
            case .line(let bytes): return try body(bytes)
            case .fragment(let fragment):
                if fragment.breakReason != nil, let breakError { throw breakError }
                throw InputError.lineTooLong(path: path, line: lineNumber, limit: limit)
            }
        }
        return result ?? nil
    }

    /// Calls `body` with the next unit; returns nil at the end of input (or after the fragment a break leaves).
    ///
    /// A broken stream (a truncated or corrupt gzip member) ends the input: the bytes after the last complete
    /// line become a fragment with the break's reason (an empty one when the break fell between lines), and
    /// ``breakError`` is set.
    package func nextUnit<T>(_ body: (Unit) throws -> T) throws -> T? {
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
                    try body(.line(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])))
                }
            }
            if eof {
                if let breakError {
                    guard !reportedBreak else { return nil }
                    reportedBreak = true
                    lineNumber += 1
                    let tail = buffer[start..<end]
                    start = end
                    return try body(
                        .fragment(
                            Fragment(
                                prefix: Array(tail.prefix(Self.fragmentPrefixBytes)), byteCount: tail.count,
                                sha256: Digest.sha256Hex(tail), breakReason: breakError.reason)))
                }
                guard start < end else { return nil }
                lineNumber += 1
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let lineStart = start
                start = end
                return try buffer.withUnsafeBufferPointer { bytes in
                    try body(.line(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])))
                }
            }
            // More than the limit (and a CR LF) without a newline: the line is too long to hold.
            if end - start > limit + 2 {
                lineNumber += 1
                return try body(.fragment(try skipLongLine()))
            }
            // Compact, grow (never past the limit plus a chunk) if a line fills the buffer, then read more.
            scanFrom = end - start
            compact()
            if end == buffer.count {
                buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, limit + 2 + (1 << 20) - end)))
            }
            fill()
        }
    }

    private var reportedBreak = false

    private func compact() {
        guard start > 0 else { return }
        buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            memmove(base, base + start, end - start)
        }
        end -= start
        start = 0
    }

    /// Reads more into the buffer; at the end, or when the stream breaks, sets `eof` (and ``breakError``).
    private func fill() {
        do {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
            }
            if count == 0 { eof = true }
            end += count
        } catch let error as InputError {
            breakError = error
            eof = true
        } catch {
            breakError = .readFailed(path: path, reason: "\(error)")
            eof = true
        }
    }

    /// Consumes the rest of a line that is over the limit, hashing it and keeping its first bytes.
    private func skipLongLine() throws -> Fragment {
        var hasher = SHA256()
        var prefix: [UInt8] = []
        var count = 0
        while true {
            let newline: Int? = buffer.withUnsafeBufferPointer { bytes in
                guard start < end, let found = memchr(bytes.baseAddress! + start, 0x0A, end - start) else { return nil }
                return UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress!)
            }
            let stop = newline ?? end
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[start..<stop])) }
            if prefix.count < Self.fragmentPrefixBytes {
                prefix += buffer[start..<min(stop, start + Self.fragmentPrefixBytes - prefix.count)]
            }
            count += stop - start
            if let newline {
                start = newline + 1
                break
            }
            start = 0
            end = 0
            if eof { break }
            fill()
            if eof && end == 0 { break }
        }
        if breakError != nil { reportedBreak = true }
        return Fragment(
            prefix: prefix, byteCount: count, sha256: Digest.hex(hasher.finalize()),
            breakReason: breakError?.reason)
    }

    /// Reads everything that is left as one unit: the bytes, or a fragment when they are over the limit or the
    /// stream breaks.
    package func readAllUnit() -> WholeUnit {
        var all: [UInt8] = Array(buffer[start..<end])
        start = end
        var hasher: SHA256? = nil
        var prefix: [UInt8] = []
        var count = all.count
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            if hasher == nil, all.count > limit {
                var started = SHA256()
                started.update(data: all)
                hasher = started
                prefix = Array(all.prefix(Self.fragmentPrefixBytes))
                all = []
            }
            let read: Int
            do {
                read = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            } catch {
                breakError = (error as? InputError) ?? .readFailed(path: path, reason: "\(error)")
                break
            }
            if read == 0 { break }
            count += read
            if hasher != nil {
                chunk.withUnsafeBytes { hasher!.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
            } else {
                all.append(contentsOf: chunk[0..<read])
            }
        }
        if let hasher {
            return .fragment(
                Fragment(
                    prefix: prefix, byteCount: count, sha256: Digest.hex(hasher.finalize()),
                    breakReason: breakError?.reason))
        }
        if let breakError {
            return .fragment(
                Fragment(
                    prefix: Array(all.prefix(Self.fragmentPrefixBytes)), byteCount: all.count,
                    sha256: Digest.sha256Hex(all), breakReason: breakError.reason))
        }
        return .bytes(all)
    }

    /// Reads everything that is left as one unit.
    /// - Throws: ``InputError/lineTooLong(path:line:limit:)`` when it is over the limit, or the stream's error.
    package func readAll() throws -> [UInt8] {
        switch readAllUnit() {
        case .bytes(let bytes): return bytes
        case .fragment(let fragment):
            if fragment.breakReason != nil, let breakError { throw breakError }
            throw InputError.lineTooLong(path: path, line: 1, limit: limit)
        }
    }
}

import CZlib
import Foundation

/// A file (or standard output) written line by line, gzip-compressed when its name ends in `.gz`.
package final class OutputFile {
    private let handle: FileHandle
    private let ownsHandle: Bool
    // zlib keeps a pointer back to its z_stream and refuses one that moved, so it lives at a fixed address.
    private var stream: UnsafeMutablePointer<z_stream>?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Opens `path` for writing (replacing it), or standard output for nil or `-`.
    /// - Throws: ``InputError/cannotOpen(path:reason:)``.
    package init(path: String?) throws {
        guard let path, path != "-" else {
            handle = FileHandle.standardOutput
            ownsHandle = false
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw InputError.cannotOpen(path: path, reason: "cannot create the file") }
        self.handle = handle
        ownsHandle = true
        if path.hasSuffix(".gz") {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let status = deflateInit2_(
                stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                stream.deallocate()
                throw InputError.cannotOpen(path: path, reason: "deflateInit failed")
            }
            self.stream = stream
        }
    }

    /// Writes one line (a newline is added).
    package func writeLine(_ line: String) {
        write(Array((line + "\n").utf8), finish: false)
    }

    private func write(_ bytes: [UInt8], finish: Bool) {
        guard let stream else {
            handle.write(Data(bytes))
            return
        }
        var input = bytes
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.pointee.next_in = inputBuffer.baseAddress
            stream.pointee.avail_in = uInt(inputBuffer.count)
            while true {
                let (produced, status) = buffer.withUnsafeMutableBufferPointer { output -> (Int, Int32) in
                    stream.pointee.next_out = output.baseAddress
                    stream.pointee.avail_out = uInt(output.count)
                    let status = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    return (output.count - Int(stream.pointee.avail_out), status)
                }
                if produced > 0 { handle.write(Data(buffer[0..<produced])) }
                if status < 0 && status != Z_BUF_ERROR { break }
                if finish {
                    if status == Z_STREAM_END { break }
                } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                    break
                }
            }
        }
    }

    /// Finishes the file (the gzip trailer) and closes it.
    package func close() throws {
        if let stream {
            write([], finish: true)
            deflateEnd(stream)
            stream.deallocate()
            self.stream = nil
        }
        if ownsHandle { try handle.close() }
    }
}

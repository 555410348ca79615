import Foundation
import GRDB
#if canImport(Glibc)
// `struct stat` comes to Swift through CoreFoundation's module on Linux (the first to include <sys/stat.h>).
import CoreFoundation
import Glibc
#endif

/// Errors in the ingest set-up (not in the data: bad data is quarantined, never an error).
package enum IngestError: LocalizedError, Equatable {
    case notFound(String)
    case unsupportedFile(String)
    case badSidecar(path: String, line: Int, reason: String)

    package var errorDescription: String? {
        switch self {
        case .notFound(let path): return "\(path): no such file or directory"
        case .unsupportedFile(let path):
            return "\(path): not an input file (expected .json, .jsonl or .ndjson, optionally .gz)"
        case .badSidecar(let path, let line, let reason): return "\(path):\(line): bad receive-time sidecar: \(reason)"
        }
    }
}

/// Loads Alertmanager webhook bodies from files, directories or standard input into the store.
///
/// - A `.json` file is one body; a `.jsonl`/`.ndjson` file is one body per line; either may be gzipped.
/// - Directories are walked recursively in path order; `NAME.headers.jsonl` sidecars give receive times.
/// - `-` reads standard input as JSON Lines.
package struct Ingestor {
    /// The store.
    package var store: Store
    /// The largest unit accepted.
    package var sizeLimit: Int = WebhookPayload.defaultSizeLimit
    /// Units per write transaction.
    package var batchSize = 5000
    /// How progress is shown.
    package var progressStyle: Progress.Style = .silent
    /// The corpus the input belongs to, if any (recorded on its deliveries).
    package var corpus: String?

    /// Creates an ingestor.
    package init(store: Store, sizeLimit: Int = WebhookPayload.defaultSizeLimit) {
        self.store = store
        self.sizeLimit = sizeLimit
    }

    /// An input file with its kind.
    package struct InputFile: Equatable, Sendable {
        /// The path as messages and delivery sources name it (`-` for standard input): the file system's bytes
        /// where they are UTF-8, `\xNN` for each byte that is not.
        package var path: String
        /// The path's bytes as the file system has them (nil for standard input).
        package var systemPath: [UInt8]?
        /// Whether it holds one body per line.
        package var isLines: Bool

        /// Whether the name had bytes that are not UTF-8 (and so `path` escapes them).
        package var hasEscapedName: Bool { systemPath.map { $0 != Array(path.utf8) } ?? false }

        /// Opens it.
        package func open() throws -> ByteSource { try ByteSource(systemPath: systemPath, displayPath: path) }
    }

    /// Expands paths into input files: directories recursively in byte order of their paths, sidecars left out.
    ///
    /// Directories are read with `readdir`, so that a name which is not valid UTF-8 is read too (by its bytes)
    /// rather than skipped; symbolic links to files are followed, links to directories are not descended.
    /// - Throws: ``IngestError``.
    package static func inputFiles(_ paths: [String]) throws -> [InputFile] {
        var files: [InputFile] = []
        for path in paths {
            if path == "-" {
                files.append(InputFile(path: "-", systemPath: nil, isLines: true))
                continue
            }
            let bytes = Array(path.utf8)
            guard let type = fileType(bytes, followLinks: true) else { throw IngestError.notFound(path) }
            if type == .directory {
                var found: [[UInt8]] = []
                try walk(bytes, into: &found)
                for full in found.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    let name = escapedName(full)
                    files.append(InputFile(path: name, systemPath: full, isLines: kind(of: name)!))
                }
            } else {
                guard let isLines = kind(of: path) else { throw IngestError.unsupportedFile(path) }
                files.append(InputFile(path: path, systemPath: bytes, isLines: isLines))
            }
        }
        return files
    }

    private enum FileType { case directory, file, other }

    private static func fileType(_ path: [UInt8], followLinks: Bool) -> FileType? {
        var info = Glibc.stat()
        let status = (path + [0]).withUnsafeBufferPointer { name in
            name.withMemoryRebound(to: CChar.self) {
                followLinks ? stat($0.baseAddress!, &info) : lstat($0.baseAddress!, &info)
            }
        }
        guard status == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFLNK: return fileType(path, followLinks: true) == .file ? .file : .other
        default: return .other
        }
    }

    /// Collects the input files under a directory (recursively), by the bytes of their paths.
    private static func walk(_ directory: [UInt8], into found: inout [[UInt8]]) throws {
        let handle = (directory + [0]).withUnsafeBufferPointer { name in
            name.withMemoryRebound(to: CChar.self) { opendir($0.baseAddress!) }
        }
        guard let handle else { throw IngestError.notFound(escapedName(directory)) }
        defer { closedir(handle) }
        var children: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            children.append(directory.last == 0x2F ? directory + name : directory + [0x2F] + name)
        }
        for child in children {
            switch fileType(child, followLinks: false) {
            case .directory: try walk(child, into: &found)
            case .file: if kind(of: escapedName(child)) != nil { found.append(child) }
            default: continue
            }
        }
    }

    /// A path's bytes as text: UTF-8 as it is, every byte that is not valid UTF-8 as `\xNN` (and a backslash
    /// that starts such an escape is itself escaped, so the name stays unambiguous).
    package static func escapedName(_ bytes: [UInt8]) -> String {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var text = ""
        var index = 0
        while index < bytes.count {
            // The longest valid UTF-8 scalar at this position, else one escaped byte.
            var matched = 0
            for length in 1...4 where index + length <= bytes.count {
                if let scalar = String(validating: bytes[index..<(index + length)], as: UTF8.self),
                    scalar.unicodeScalars.count == 1
                {
                    matched = length
                    break
                }
            }
            if matched > 0 {
                let piece = String(decoding: bytes[index..<(index + matched)], as: UTF8.self)
                text += piece == "\\" ? "\\\\" : piece
                index += matched
            } else {
                let hex = String(bytes[index], radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                index += 1
            }
        }
        return text
    }

    /// Whether a path is JSON Lines (true), one JSON body (false), or not an input (nil, sidecars included).
    static func kind(of path: String) -> Bool? {
        var name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".headers.jsonl") { return nil }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return true }
        if name.hasSuffix(".json") { return false }
        return nil
    }

    /// The receive-time sidecar of a JSON Lines file, if it exists: `NAME.headers.jsonl` beside `NAME.jsonl`.
    static func sidecarPath(for path: String) -> String? {
        guard path != "-" else { return nil }
        var base = path
        if base.lowercased().hasSuffix(".gz") { base.removeLast(3) }
        for suffix in [".jsonl", ".ndjson"] where base.lowercased().hasSuffix(suffix) {
            let stem = String(base.dropLast(suffix.count))
            for candidate in [stem + ".headers.jsonl", stem + ".headers.jsonl.gz"]
            where FileManager.default.fileExists(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    /// Reads `recv_unix` of every line of a sidecar.
    static func receiveTimes(sidecar: String) throws -> [Double?] {
        let reader = LineReader(source: try ByteSource(path: sidecar), limit: 1 << 20)
        var times: [Double?] = []
        while let time: Double? = try reader.nextLine({ line -> Double? in
            guard line.contains(where: { $0 > 0x20 }) else { return nil }
            guard let value = try? JSONParser.parse(line), case .object = value else {
                return Double.nan
            }
            switch value["recv_unix"] {
            case .double(let seconds): return seconds
            case .integer(let digits): return Double(digits)
            default: return Double.nan
            }
        }) {
            if let time, time.isNaN {
                throw IngestError.badSidecar(path: sidecar, line: reader.lineNumber, reason: "no numeric recv_unix")
            }
            times.append(time)
        }
        return times
    }

    /// What the reading thread hands to the writing thread, in input order.
    private enum Event: Sendable {
        case unit(DeliveryWriter.PreparedUnit)
        case blank
        case file(bytes: Int)
        /// The file's stream broke: the units before the break were emitted, its tail was quarantined.
        case broken(path: String, reason: String)
        /// The file's name is not valid UTF-8 (it is read, and named with escapes).
        case escapedName
    }

    /// Ingests the given paths in order.
    ///
    /// Two threads share the work: one reads, hashes and decodes units (``DeliveryWriter/prepare(unit:source:receivedAt:sizeLimit:)``),
    /// the other stores them in input order in batched write transactions; a bounded queue between them keeps
    /// memory flat however large the input is.
    /// - Parameter paths: files, directories, or `-`.
    /// - Returns: the counts.
    /// - Throws: ``IngestError``, ``InputError`` or a database error; bad data is quarantined instead.
    package func ingest(paths: [String]) throws -> IngestSummary {
        try ingest(files: try Self.inputFiles(paths))
    }

    /// Ingests the given files in order (see ``ingest(paths:)``).
    package func ingest(files: [InputFile]) throws -> IngestSummary {
        let progress = Progress(label: "ingest", total: nil, unit: "units", style: progressStyle)
        let writer = DeliveryWriter(sizeLimit: sizeLimit, corpus: corpus)
        let queue = BoundedQueue<Event>(capacity: 512)
        let failure = ThreadFailure()
        let sizeLimit = self.sizeLimit
        let reader = Thread {
            do {
                for file in files {
                    try Self.read(file, sizeLimit: sizeLimit) { event in
                        // The writer closed the queue: it failed, so reading stops too.
                        guard queue.put(event) else { throw CancellationError() }
                    }
                }
            } catch is CancellationError {
            } catch {
                failure.error = error
            }
            queue.close()
        }
        reader.stackSize = 4 << 20
        reader.start()
        defer { queue.close() }

        var summary = IngestSummary()
        try store.queue.writeWithoutTransaction { db in
            var pending = 0
            try db.execute(sql: "BEGIN IMMEDIATE")
            do {
                while let event = queue.take() {
                    switch event {
                    case .blank:
                        summary.blank += 1
                        continue
                    case .file(let bytes):
                        summary.files += 1
                        summary.bytes += bytes
                        continue
                    case .escapedName:
                        summary.escapedNames += 1
                        continue
                    case .broken(let path, let reason):
                        summary.brokenFiles.append(IngestSummary.BrokenFile(path: path, reason: reason))
                        continue
                    case .unit(let unit):
                        let outcome = try writer.commit(db, unit)
                        summary.read += 1
                        switch outcome {
                        case .stored(_, let incidentId, let opened, let closed):
                            summary.stored += 1
                            if opened { summary.incidents += 1 }
                            if closed { summary.resolved += 1 }
                            if incidentId == nil { summary.orphanResolved += 1 }
                        case .duplicate: summary.duplicates += 1
                        case .quarantined: summary.quarantined += 1
                        }
                    }
                    pending += 1
                    if pending >= batchSize {
                        try db.execute(sql: "COMMIT; BEGIN IMMEDIATE")
                        pending = 0
                    }
                    let counts = summary
                    progress.advance {
                        "\(counts.stored) stored, \(counts.duplicates) duplicate, \(counts.quarantined) quarantined"
                    }
                }
                if let error = failure.error { throw error }
                try db.execute(sql: "COMMIT")
            } catch {
                queue.close()
                try? db.execute(sql: "ROLLBACK")
                writer.resetCache()
                throw error
            }
        }
        progress.finish(
            note: "\(summary.stored) stored, \(summary.duplicates) duplicate, \(summary.quarantined) quarantined")
        return summary
    }

    /// Reads one input file, emitting its units in order (receive order when a sidecar gives receive times).
    ///
    /// At most the size limit plus a read chunk of a unit is held: a longer unit is hashed as it streams by and
    /// kept as a prefix; a stream that breaks keeps every unit before the break and quarantines the tail.
    private static func read(_ file: InputFile, sizeLimit: Int, emit: (Event) throws -> Void) throws {
        let path = file.path
        let reader = LineReader(source: try file.open(), limit: sizeLimit)
        if file.hasEscapedName { try emit(.escapedName) }
        guard file.isLines else {
            let unit: DeliveryWriter.PreparedUnit
            switch reader.readAllUnit() {
            case .bytes(let bytes):
                try emit(.file(bytes: bytes.count))
                unit = bytes.withUnsafeBufferPointer {
                    DeliveryWriter.prepare(unit: $0, source: path, receivedAt: nil, sizeLimit: sizeLimit)
                }
            case .fragment(let fragment):
                try emit(.file(bytes: fragment.byteCount))
                unit = DeliveryWriter.prepare(fragment: fragment, source: path, receivedAt: nil, sizeLimit: sizeLimit)
            }
            try emit(.unit(unit))
            if let broken = reader.breakError { try emit(.broken(path: path, reason: broken.reason)) }
            return
        }
        let times = try sidecarPath(for: path).map { try receiveTimes(sidecar: $0) }
        let isBlank: (UnsafeBufferPointer<UInt8>) -> Bool = { line in
            !line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D })
        }
        var bytes = 0
        var unitIndex = 0
        // Each line becomes an event as it is read: blank, a unit, or a fragment (too long, or the broken tail).
        func nextEvent() throws -> Event? {
            try reader.nextUnit { unit -> Event in
                let time = times.flatMap { unitIndex < $0.count ? $0[unitIndex] : nil }
                let source = "\(path):\(reader.lineNumber)"
                switch unit {
                case .line(let line):
                    bytes += line.count + 1
                    if isBlank(line) { return .blank }
                    unitIndex += 1
                    return .unit(
                        DeliveryWriter.prepare(unit: line, source: source, receivedAt: time, sizeLimit: sizeLimit))
                case .fragment(let fragment):
                    bytes += fragment.byteCount + (fragment.breakReason == nil ? 1 : 0)
                    // An empty tail (the stream broke between lines) is still recorded, so the break is seen.
                    unitIndex += 1
                    return .unit(
                        DeliveryWriter.prepare(
                            fragment: fragment, source: source, receivedAt: time, sizeLimit: sizeLimit))
                }
            }
        }
        // With receive times out of line order, units are taken in receive order (stable); this holds the file's
        // prepared units (each within the size limit) in memory. Otherwise units stream in line order.
        if let times, !zip(times, times.dropFirst()).allSatisfy({ ($0 ?? -.infinity) <= ($1 ?? .infinity) }) {
            var units: [DeliveryWriter.PreparedUnit] = []
            var blanks = 0
            while let event = try nextEvent() {
                switch event {
                case .unit(let unit): units.append(unit)
                default: blanks += 1
                }
            }
            try emit(.file(bytes: bytes))
            for _ in 0..<blanks { try emit(.blank) }
            let ordered = units.enumerated().sorted { a, b in
                let (ta, tb) = (a.element.receivedAt ?? .infinity, b.element.receivedAt ?? .infinity)
                return ta != tb ? ta < tb : a.offset < b.offset
            }
            for (_, unit) in ordered { try emit(.unit(unit)) }
        } else {
            while let event = try nextEvent() { try emit(event) }
            try emit(.file(bytes: bytes))
        }
        if let broken = reader.breakError { try emit(.broken(path: path, reason: broken.reason)) }
    }
}

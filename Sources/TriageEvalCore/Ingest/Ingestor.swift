import Foundation
import Synchronization
import GRDB

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
        /// The path (`-` for standard input).
        package var path: String
        /// Whether it holds one body per line.
        package var isLines: Bool
    }

    /// Expands paths into input files: directories recursively in path order, sidecars left out.
    /// - Throws: ``IngestError``.
    package static func inputFiles(_ paths: [String]) throws -> [InputFile] {
        var files: [InputFile] = []
        let manager = FileManager.default
        for path in paths {
            if path == "-" {
                files.append(InputFile(path: "-", isLines: true))
                continue
            }
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw IngestError.notFound(path) }
            if isDirectory.boolValue {
                guard let enumerator = manager.enumerator(atPath: path) else { throw IngestError.notFound(path) }
                var found: [String] = []
                for case let relative as String in enumerator {
                    let full = (path as NSString).appendingPathComponent(relative)
                    var childIsDirectory: ObjCBool = false
                    let exists = manager.fileExists(atPath: full, isDirectory: &childIsDirectory)
                    if exists, !childIsDirectory.boolValue, kind(of: full) != nil { found.append(full) }
                }
                for full in found.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    files.append(InputFile(path: full, isLines: kind(of: full)!))
                }
            } else {
                guard let isLines = kind(of: path) else { throw IngestError.unsupportedFile(path) }
                files.append(InputFile(path: path, isLines: isLines))
            }
        }
        return files
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
        let reader = LineReader(source: try ByteSource(path: sidecar))
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
        let files = try Self.inputFiles(paths)
        let progress = Progress(label: "ingest", total: nil, unit: "units", style: progressStyle)
        let writer = DeliveryWriter(sizeLimit: sizeLimit, corpus: corpus)
        let queue = BoundedQueue<Event>(capacity: 512)
        let failure = ReaderFailure()
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
    private static func read(_ file: InputFile, sizeLimit: Int, emit: (Event) throws -> Void) throws {
        let path = file.path
        let reader = LineReader(source: try ByteSource(path: path))
        guard file.isLines else {
            let bytes = try reader.readAll()
            try emit(.file(bytes: bytes.count))
            try emit(
                .unit(
                    bytes.withUnsafeBufferPointer {
                        DeliveryWriter.prepare(unit: $0, source: path, receivedAt: nil, sizeLimit: sizeLimit)
                    }))
            return
        }
        let times = try sidecarPath(for: path).map { try receiveTimes(sidecar: $0) }
        let isBlank: (UnsafeBufferPointer<UInt8>) -> Bool = { line in
            !line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D })
        }
        var bytes = 0
        // With receive times out of line order, units are taken in receive order (stable); this needs the
        // file's lines in memory. Otherwise units stream in line order.
        if let times, !zip(times, times.dropFirst()).allSatisfy({ ($0 ?? -.infinity) <= ($1 ?? .infinity) }) {
            var units: [(line: Int, bytes: [UInt8], time: Double?)] = []
            var blanks = 0
            while let line: [UInt8] = try reader.nextLine({ Array($0) }) {
                bytes += line.count + 1
                if line.withUnsafeBufferPointer(isBlank) {
                    blanks += 1
                    continue
                }
                units.append((reader.lineNumber, line, units.count < times.count ? times[units.count] : nil))
            }
            try emit(.file(bytes: bytes))
            for _ in 0..<blanks { try emit(.blank) }
            let ordered = units.enumerated().sorted { a, b in
                let (ta, tb) = (a.element.time ?? .infinity, b.element.time ?? .infinity)
                return ta != tb ? ta < tb : a.offset < b.offset
            }
            for (_, unit) in ordered {
                try emit(
                    .unit(
                        unit.bytes.withUnsafeBufferPointer {
                            DeliveryWriter.prepare(
                                unit: $0, source: "\(path):\(unit.line)", receivedAt: unit.time, sizeLimit: sizeLimit)
                        }))
            }
            return
        }
        var unitIndex = 0
        while let event: Event = try reader.nextLine({ line in
            bytes += line.count + 1
            if isBlank(line) { return .blank }
            let time = times.flatMap { unitIndex < $0.count ? $0[unitIndex] : nil }
            unitIndex += 1
            return .unit(
                DeliveryWriter.prepare(
                    unit: line, source: "\(path):\(reader.lineNumber)", receivedAt: time, sizeLimit: sizeLimit))
        }) {
            try emit(event)
        }
        try emit(.file(bytes: bytes))
    }
}

/// The reading thread's error, handed to the writing thread.
private final class ReaderFailure: Sendable {
    private let stored = Mutex<(any Error)?>(nil)

    var error: (any Error)? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

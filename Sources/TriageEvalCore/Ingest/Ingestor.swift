import Foundation
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
    package var batchSize = 2000
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

    /// Ingests the given paths in order.
    /// - Parameter paths: files, directories, or `-`.
    /// - Returns: the counts.
    /// - Throws: ``IngestError``, ``InputError`` or a database error; bad data is quarantined instead.
    package func ingest(paths: [String]) throws -> IngestSummary {
        let files = try Self.inputFiles(paths)
        let progress = Progress(label: "ingest", total: nil, unit: "units", style: progressStyle)
        let writer = DeliveryWriter(sizeLimit: sizeLimit, corpus: corpus)
        var summary = IngestSummary()
        try store.queue.writeWithoutTransaction { db in
            var pending = 0
            try db.execute(sql: "BEGIN IMMEDIATE")
            do {
                func record(_ outcome: UnitOutcome, into summary: inout IngestSummary) throws {
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
                    pending += 1
                    if pending >= batchSize {
                        try db.execute(sql: "COMMIT; BEGIN IMMEDIATE")
                        pending = 0
                    }
                    progress.advance(note: "\(summary.stored) stored, \(summary.duplicates) duplicate, \(summary.quarantined) quarantined")
                }
                for file in files {
                    summary.files += 1
                    if file.isLines {
                        try ingestLines(file.path, db: db, writer: writer, summary: &summary, record: record)
                    } else {
                        let reader = LineReader(source: try ByteSource(path: file.path))
                        let bytes = try reader.readAll()
                        summary.bytes += bytes.count
                        let outcome = try bytes.withUnsafeBufferPointer {
                            try writer.store(db, unit: $0, source: file.path, receivedAt: nil)
                        }
                        try record(outcome, into: &summary)
                    }
                }
                try db.execute(sql: "COMMIT")
            } catch {
                try? db.execute(sql: "ROLLBACK")
                throw error
            }
        }
        progress.finish(note: "\(summary.stored) stored, \(summary.duplicates) duplicate, \(summary.quarantined) quarantined")
        return summary
    }

    private func ingestLines(
        _ path: String,
        db: Database,
        writer: DeliveryWriter,
        summary: inout IngestSummary,
        record: (UnitOutcome, inout IngestSummary) throws -> Void
    ) throws {
        let times = try Self.sidecarPath(for: path).map { try Self.receiveTimes(sidecar: $0) }
        let reader = LineReader(source: try ByteSource(path: path))
        let isBlank: (UnsafeBufferPointer<UInt8>) -> Bool = { line in
            !line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D })
        }
        // With receive times, units are taken in receive order (stable); without, in line order, streaming.
        if let times, !zip(times, times.dropFirst()).allSatisfy({ ($0 ?? -.infinity) <= ($1 ?? .infinity) }) {
            var lines: [(line: Int, bytes: [UInt8])] = []
            while let line: [UInt8] = try reader.nextLine({ Array($0) }) {
                summary.bytes += line.count + 1
                lines.append((reader.lineNumber, line))
            }
            var order: [(line: Int, bytes: [UInt8], time: Double?)] = []
            var unitIndex = 0
            for entry in lines {
                if entry.bytes.withUnsafeBufferPointer(isBlank) {
                    summary.blank += 1
                    continue
                }
                order.append((entry.line, entry.bytes, unitIndex < times.count ? times[unitIndex] : nil))
                unitIndex += 1
            }
            let sorted = order.enumerated().sorted { a, b in
                let (ta, tb) = (a.element.time ?? .infinity, b.element.time ?? .infinity)
                return ta != tb ? ta < tb : a.offset < b.offset
            }
            for (_, entry) in sorted {
                let outcome = try entry.bytes.withUnsafeBufferPointer {
                    try writer.store(db, unit: $0, source: "\(path):\(entry.line)", receivedAt: entry.time)
                }
                try record(outcome, &summary)
            }
            return
        }
        var unitIndex = 0
        while let outcome: UnitOutcome? = try reader.nextLine({ line in
            summary.bytes += line.count + 1
            if isBlank(line) {
                summary.blank += 1
                return nil
            }
            let time = times.flatMap { unitIndex < $0.count ? $0[unitIndex] : nil }
            unitIndex += 1
            return try writer.store(db, unit: line, source: "\(path):\(reader.lineNumber)", receivedAt: time)
        }) {
            if let outcome { try record(outcome, &summary) }
        }
    }
}

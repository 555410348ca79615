import Foundation
import GRDB

/// Errors importing cached replies.
package enum ReplyImportError: LocalizedError, Equatable {
    case badLine(source: String, reason: String)
    case unknownIncident(source: String, incidentId: String)
    case conflict(source: String, incidentId: String, model: String, sample: Int)

    package var errorDescription: String? {
        switch self {
        case .badLine(let source, let reason): return "\(source): \(reason)"
        case .unknownIncident(let source, let incidentId):
            return "\(source): no incident '\(incidentId)' in the store (ingest its deliveries first)"
        case .conflict(let source, let incidentId, let model, let sample):
            return "\(source): a different reply for \(incidentId), model \(model), sample \(sample) is already stored"
        }
    }
}

/// Loads cached model replies (JSON Lines, optionally gzipped) into the store.
///
/// One reply a line: `incident_id`, `sample` (from 0), `model`, `text`, and optionally `provider`,
/// `stop_reason`, `usage`. A reply identical to a stored one is skipped; a different one for the same
/// (incident, model, sample) is an error, so a replay is never ambiguous.
package enum ReplyImporter {
    /// What an import did.
    package struct Summary: Codable, Sendable, Equatable {
        package var read = 0
        package var imported = 0
        package var alreadyPresent = 0
        package var blank = 0
    }

    /// Imports one file.
    /// - Parameters:
    ///   - path: the file (`-` for standard input).
    ///   - defaultProvider: the provider recorded for lines that do not name one.
    ///   - store: the store.
    /// - Throws: ``ReplyImportError`` naming `file:line`; nothing is imported from a file with a bad line.
    package static func importFile(path: String, defaultProvider: String, store: Store) throws -> Summary {
        let reader = LineReader(source: try ByteSource(path: path))
        var summary = Summary()
        let now = ISO8601DateFormatter().string(from: Date())
        try store.queue.write { db in
            while let _: Void = try reader.nextLine({ line in
                let source = "\(path):\(reader.lineNumber)"
                guard line.contains(where: { $0 > 0x20 }) else {
                    summary.blank += 1
                    return
                }
                summary.read += 1
                let value: JSONValue
                do {
                    value = try JSONParser.parse(line, options: .python)
                } catch {
                    throw ReplyImportError.badLine(source: source, reason: "not JSON: \(error)")
                }
                guard case .object = value else {
                    throw ReplyImportError.badLine(source: source, reason: "each line must be a JSON object")
                }
                func string(_ key: String, required: Bool = true) throws -> String? {
                    guard let member = value[key], member != .null else {
                        if required { throw ReplyImportError.badLine(source: source, reason: "missing '\(key)'") }
                        return nil
                    }
                    guard case .string(let text) = member else {
                        throw ReplyImportError.badLine(source: source, reason: "'\(key)' must be a string")
                    }
                    return text
                }
                let incidentId = try string("incident_id")!
                let model = try string("model")!
                let text = try string("text")!
                let provider = try string("provider", required: false) ?? defaultProvider
                let stopReason = try string("stop_reason", required: false)
                guard case .integer(let sampleDigits) = value["sample"], let sample = Int(sampleDigits), sample >= 0
                else {
                    throw ReplyImportError.badLine(source: source, reason: "'sample' must be an integer ≥ 0")
                }
                var usage: String? = nil
                if let usageValue = value["usage"], usageValue != .null {
                    guard case .object = usageValue else {
                        throw ReplyImportError.badLine(source: source, reason: "'usage' must be an object")
                    }
                    usage = PythonJSONEncoder.string(usageValue)
                }
                guard
                    try Bool.fetchOne(db, sql: "SELECT 1 FROM incident WHERE id = ?", arguments: [incidentId])
                        ?? false
                else { throw ReplyImportError.unknownIncident(source: source, incidentId: incidentId) }
                if let existing = try String.fetchOne(
                    db, sql: "SELECT text FROM reply WHERE incidentId = ? AND model = ? AND sample = ?",
                    arguments: [incidentId, model, sample])
                {
                    guard existing == text else {
                        throw ReplyImportError.conflict(
                            source: source, incidentId: incidentId, model: model, sample: sample)
                    }
                    summary.alreadyPresent += 1
                    return
                }
                try db.execute(
                    sql: """
                        INSERT INTO reply (incidentId, sample, provider, model, text, stopReason, usage, source,
                            recordedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [incidentId, sample, provider, model, text, stopReason, usage, source, now])
                summary.imported += 1
            }) {}
        }
        return summary
    }
}

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
/// `stop_reason`, `usage` — the short form — plus, as `cache export` writes them, `request_sha256`,
/// `user_sha256`, `system_sha256`, `latency_ms`, `recorded_at`. A line without `request_sha256` can only be
/// found by its event key (`match: same-event`); its `user_sha256` is computed from the stored event. A reply
/// identical to a stored one is skipped; a different one under the same key is an error, so a replay is never
/// ambiguous.
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
        let now = UTCTimestamp.string()
        let userMessages = UserMessageCache()
        try store.queue.write { db in
            // Prepared once: GRDB would compile (and authorize) each statement again for every line (100,000 short
            // lines took 6.2 s that way, 0.9 s this way).
            let existing = try ReplyRecord.SameEventReplies(db)
            let insert = try RawStatement(db, sql: ReplyRecord.insertSQL)
            var knownIncidents = Set<String>()
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
                let text = try string("text", required: value["http_status"] == nil)
                var httpStatus: Int? = nil
                if case .integer(let digits)? = value["http_status"] { httpStatus = Int(digits) }
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
                if !knownIncidents.contains(incidentId) {
                    guard try IncidentRecord.exists(db, id: incidentId) else {
                        throw ReplyImportError.unknownIncident(source: source, incidentId: incidentId)
                    }
                    knownIncidents.insert(incidentId)
                }
                let requestSha = try string("request_sha256", required: false)
                let systemSha = try string("system_sha256", required: false)
                var userSha = try string("user_sha256", required: false)
                if userSha == nil { userSha = try userMessages.sha256(db, incidentId: incidentId) }
                var latency: Double? = nil
                switch value["latency_ms"] {
                case .double(let number)?: latency = number
                case .integer(let digits)?: latency = Double(digits)
                default: break
                }
                existing.select(
                    incidentId: incidentId, provider: provider, model: model, sample: sample, userSha256: userSha)
                var sameKey = false
                var sameText = false
                while try existing.next() {
                    guard existing.requestSha256 == requestSha else { continue }
                    sameKey = true
                    if existing.text == text { sameText = true }
                }
                if sameKey {
                    guard sameText else {
                        throw ReplyImportError.conflict(
                            source: source, incidentId: incidentId, model: model, sample: sample)
                    }
                    summary.alreadyPresent += 1
                    return
                }
                func int(_ key: String) -> Int64? {
                    if case .integer(let digits)? = value["usage"]?[key] { return Int64(digits) }
                    return nil
                }
                _ = try ReplyRecord(
                    incidentId: incidentId, sample: sample, provider: provider, model: model,
                    requestSha256: requestSha, userSha256: userSha!, systemSha256: systemSha, text: text,
                    stopReason: stopReason, usage: usage,
                    inputTokens: (int("input_tokens") ?? int("prompt_tokens")).map(Int.init),
                    outputTokens: (int("output_tokens") ?? int("completion_tokens")).map(Int.init),
                    httpStatus: httpStatus, error: try string("error", required: false), rawBody: nil,
                    latencyMs: latency, attempts: nil, source: source,
                    recordedAt: try string("recorded_at", required: false) ?? now
                ).insert(with: insert)
                summary.imported += 1
            }) {}
        }
        return summary
    }
}

/// The SHA-256 of stored incidents' user messages, computed once per incident during an import.
private final class UserMessageCache {
    private var hashes: [String: String] = [:]

    func sha256(_ db: Database, incidentId: String) throws -> String {
        if let hash = hashes[incidentId] { return hash }
        guard let body = try IncidentRecord.firstBody(db, id: incidentId) else {
            throw IncidentError.unknown(incidentId)
        }
        let event = body.withUnsafeBufferPointer { DeliveryWriter.event(body: $0, incidentId: incidentId) }
        let hash = Digest.sha256Hex(try Planner.userMessage(eventJSON: event))
        hashes[incidentId] = hash
        return hash
    }
}

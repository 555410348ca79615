import Foundation
import GRDB

/// A run's audit chain as users read it: `triage-eval audit verify RUN` and `triage-eval audit export RUN`.
package enum AuditLog {
    /// How the chain is written out.
    package enum Format: String, Sendable, CaseIterable {
        /// One row a line: the columns, `row_bytes` (the canonical JSON text whose UTF-8 bytes were hashed) and the
        /// hashes in hex.
        case jsonl
        /// A PostgreSQL script creating and filling the seed's `remediation_audit` table.
        case sql
    }

    package enum AuditError: LocalizedError, Equatable {
        case noPipeline(String)

        package var errorDescription: String? {
            switch self {
            case .noPipeline(let runId):
                return "run \(runId) has no pipeline replay with state rules, so no audit chain"
            }
        }
    }

    /// A verified chain: its length and head, or the first row that breaks it.
    package struct Verification: Sendable, Equatable {
        package var rows: Int
        package var head: String?
        package var firstBreak: AuditChain.Break?
    }

    /// Recomputes a run's chain from its stored rows.
    /// - Throws: ``RunError/unknownRun(_:)``, ``AuditError/noPipeline(_:)``, store errors.
    package static func verify(store: Store, runId: String) throws -> Verification {
        let chain = try store.queue.read { db in
            try checkRun(db, runId: runId)
            var chain = AuditChain.Verifier()
            try PipelineStateRecord.forEachAuditLink(db, runId: runId) { chain.add($0) }
            return chain
        }
        return Verification(rows: chain.count, head: chain.head.map(Digest.hex), firstBreak: chain.firstBreak)
    }

    private static func chain(_ db: Database, runId: String) throws -> [AuditChain.Link] {
        try checkRun(db, runId: runId)
        return try PipelineStateRecord.auditChain(db, runId: runId)
    }

    /// Throws unless the run exists and its replay ran the state rules.
    private static func checkRun(_ db: Database, runId: String) throws {
        _ = try RunRecord.find(db, id: runId)
        guard
            try String.fetchOne(db, sql: "SELECT stateRules FROM pipelineRun WHERE runId = ?", arguments: [runId])
                != nil
        else { throw AuditError.noPipeline(runId) }
    }

    /// Writes a run's chain, in `id` order.
    /// - Returns: how many rows were written.
    package static func export(
        store: Store, runId: String, format: Format, write: (String) throws -> Void
    ) throws -> Int {
        let links = try store.queue.read { db in try chain(db, runId: runId) }
        switch format {
        case .jsonl:
            for link in links {
                let row = link.row
                try write(
                    PythonJSONEncoder.string(
                        .object([
                            ("id", .integer(String(row.id))), ("incident_id", .string(row.incidentId)),
                            ("action", .string(row.action)),
                            ("params", .object(row.params.map { ($0.name, JSONValue.string($0.value)) })),
                            ("result", .string(row.result)), ("created_at", .string(row.createdAt)),
                            ("row_bytes", .string(String(decoding: link.rowBytes, as: UTF8.self))),
                            ("prev_hash", .string(Digest.hex(link.prevHash))),
                            ("this_hash", .string(Digest.hex(link.thisHash))),
                        ])))
            }
        case .sql:
            for line in sqlHeader(runId: runId, rows: links.count) { try write(line) }
            for link in links { try write(insert(link)) }
            for line in sqlFooter { try write(line) }
        }
        return links.count
    }

    // MARK: - PostgreSQL

    private static func sqlHeader(runId: String, rows: Int) -> [String] {
        [
            "-- remediation_audit of triage-eval run \(runId): \(rows) rows, in append order.",
            "--",
            "-- row_bytes is the chain: this_hash = sha256(prev_hash || row_bytes), the first prev_hash 32 zero bytes.",
            "-- It is bytea, not jsonb: jsonb keeps neither key order, white space nor repeated keys and rewrites",
            "-- numbers (PostgreSQL docs, \"JSON Types\"), so a hash over a jsonb column could not be recomputed.",
            "-- params is a jsonb copy for queries; the chain never reads it.",
            "BEGIN;",
            "CREATE TABLE IF NOT EXISTS remediation_audit (",
            "    id BIGINT PRIMARY KEY,",
            "    incident_id TEXT NOT NULL,",
            "    action TEXT NOT NULL,",
            "    params JSONB NOT NULL,",
            "    result TEXT NOT NULL,",
            "    created_at TIMESTAMPTZ NOT NULL,",
            "    row_bytes BYTEA NOT NULL,",
            "    prev_hash BYTEA NOT NULL,",
            "    this_hash BYTEA NOT NULL",
            ");",
            "CREATE INDEX IF NOT EXISTS remediation_audit_incident_id ON remediation_audit (incident_id);",
        ]
    }

    private static let sqlFooter = [
        "COMMIT;",
        "-- The first row that breaks the chain (none: it holds); PostgreSQL 11 or later:",
        "-- SELECT id FROM (SELECT id, row_bytes, prev_hash, this_hash,",
        "--         lag(this_hash, 1, decode(repeat('00', 32), 'hex')) OVER (ORDER BY id) AS previous",
        "--     FROM remediation_audit) chain",
        "-- WHERE prev_hash <> previous OR this_hash <> sha256(prev_hash || row_bytes) ORDER BY id LIMIT 1;",
    ]

    /// A PostgreSQL string literal (standard conforming: only the quote doubles). PostgreSQL text cannot hold
    /// NUL, which becomes U+FFFD in the columns; row_bytes keeps the hashed bytes, where JSON escaped it.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") + "'"
    }

    private static func insert(_ link: AuditChain.Link) -> String {
        let row = link.row
        func bytes(_ value: [UInt8]) -> String { "decode('\(Digest.hex(value))', 'hex')" }
        let params = PythonJSONEncoder.string(.object(row.params.map { ($0.name, JSONValue.string($0.value)) }))
        return "INSERT INTO remediation_audit (id, incident_id, action, params, result, created_at, row_bytes, "
            + "prev_hash, this_hash) VALUES (\(row.id), \(literal(row.incidentId)), \(literal(row.action)), "
            + "\(literal(params)), \(literal(row.result)), \(literal(row.createdAt)), \(bytes(link.rowBytes)), "
            + "\(bytes(link.prevHash)), \(bytes(link.thisHash)));"
    }
}

import Foundation
import GRDB

/// Writes a run's results, one row per (incident, sample), so anyone can recompute the report's numbers with
/// their own tools.
package enum ResultExporter {
    /// The output format.
    package enum Format: String, Sendable, CaseIterable {
        case jsonl
        case csv
    }

    /// The columns, in order.
    package static let columns = [
        "incident_id", "sample", "model", "outcome", "failure_class", "confidence", "needs_human", "production_route",
        "route", "expect", "expected_route", "decision_correct", "route_correct", "unsafe", "cache_hit", "stale",
        "transport_error", "gated", "correct_if_executed", "unsafe_if_executed",
    ]

    /// Writes every result of a run, ordered by incident and sample.
    /// - Returns: how many rows were written.
    /// - Throws: ``RunError/unknownRun(_:)`` and store errors.
    package static func export(
        store: Store, runId: String, format: Format, write: (String) throws -> Void
    ) throws -> Int {
        try store.queue.read { db in
            let model = try RunRecord.find(db, id: runId).model
            if format == .csv { try write(columns.joined(separator: ",")) }
            let rows = try ResultRecord.filter(ResultRecord.Columns.runId == runId)
                .order(ResultRecord.Columns.incidentId, ResultRecord.Columns.sample).asRequest(of: Row.self)
                .fetchCursor(db)
            var count = 0
            while let row = try rows.next() {
                // SQLite has no NaN: an ok decision without a stored confidence had NaN.
                let confidence: JSONValue =
                    (row["confidence"] as Double?).map { .double($0) }
                    ?? ((row["decision"] as String?) != nil ? .double(.nan) : .null)
                let values: [JSONValue] = [
                    .string(row["incidentId"]), .integer(String(row["sample"] as Int)), .string(model),
                    .string(row["outcome"]), .string(row["failureClass"]), confidence,
                    (row["needsHuman"] as Bool?).map { .bool($0) } ?? .null, .string(row["productionRoute"]),
                    .string(row["route"]), .string(row["expect"]), .string(row["expectedRoute"]),
                    .bool(row["decisionCorrect"]), .bool(row["routeCorrect"]), .bool(row["unsafe"]),
                    .bool(row["cacheHit"]), .bool(row["stale"]),
                    (row["transportError"] as String?).map { .string($0) } ?? .null,
                    .bool(row["gated"]), .bool(row["correctIfExecuted"]), .bool(row["unsafeIfExecuted"]),
                ]
                switch format {
                case .jsonl:
                    // Non-finite confidences as the strings "NaN"/"Infinity", as the parity vectors write them.
                    let object = JSONValue.object(Array(zip(columns, values)).map { ($0, $1) })
                    try write(PythonJSONEncoder.string(DecisionCheck.vectorForm(object)))
                case .csv:
                    try write(values.map(csvField).joined(separator: ","))
                }
                count += 1
            }
            return count
        }
    }

    /// One CSV field (RFC 4180): empty for null, `true`/`false`, numbers as JSON writes them, text quoted when
    /// it holds a comma, quote or line break.
    static func csvField(_ value: JSONValue) -> String {
        let text: String
        switch value {
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let digits): return digits
        case .double(let number): return PythonJSONEncoder.pythonFloatRepr(number)
        case .string(let string): text = string
        case .array, .object: text = PythonJSONEncoder.string(value)
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

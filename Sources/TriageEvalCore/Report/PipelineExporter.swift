import Foundation
import GRDB

/// Writes a run's pipeline replay, one row per message in replay order (`export --pipeline`).
package enum PipelineExporter {
    /// The columns, in order. `received_at` is production time (ISO 8601 UTC, milliseconds);
    /// `recorded_at` the receive time as recorded (Unix seconds). The dispatch columns (`dispatch`: `submitted`,
    /// `no_dependency`, `trigger_error`, `template_not_found`, `missing_parameter` or `not_routed`;
    /// `workflow_arguments` a JSON object name → value) are null for a run whose scenario has no
    /// `pipeline.manifests`, and for a message not planned. The state columns say what became of the message's
    /// Workflows (``PipelineSimulation``): `suppressed_by` (`deploy` | `idempotency`, the first of its Workflows
    /// that did not run), `queued_s` (the longest wait Pending), `approval` (`approved` | `rejected` | `expired`
    /// for a decision routed to approve), `executed` (whether any ran), `executed_at` (when the first started,
    /// production time), `executed_action` (the actions that ran, a list) and `harm` (the harms of those runs,
    /// a list; empty when they were correct) — null when nothing ran.
    package static let columns = [
        "seq", "delivery_id", "received_at", "recorded_at", "source", "incident_id", "kind", "planned", "occurrence",
        "sample", "reply_reused", "outcome", "failure_class", "route", "production_route", "decision_incident_id",
        "confidence", "actions", "input_tokens", "output_tokens", "dispatch", "dispatch_error", "workflow_template",
        "workflow_arguments", "dropped_actions", "suppressed_by", "queued_s", "approval", "executed", "executed_at",
        "executed_action", "harm",
    ]

    /// What became of one message's Workflows and approval request.
    struct MessageState {
        var suppressedBy: String?
        var queued: Double?
        var approval: String?
        var executedAt: Double?
        var executedActions: [String] = []
        var harms = Set<Harm>()

        var values: [JSONValue] {
            let executed = !executedActions.isEmpty
            return [
                suppressedBy.map(JSONValue.string) ?? .null, queued.map(JSONValue.double) ?? .null,
                approval.map(JSONValue.string) ?? .null, .bool(executed),
                executedAt.map { .string(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: $0))) } ?? .null,
                executed ? .array(executedActions.map(JSONValue.string)) : .null,
                executed ? .array(harms.sorted().map { .string($0.rawValue) }) : .null,
            ]
        }

        /// The states of a run's messages that had a Workflow or an approval request, by seq.
        static func read(_ db: Database, runId: String) throws -> [Int: MessageState] {
            var states: [Int: MessageState] = [:]
            let workflows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, suppressedBy, startedAt - dispatchedAt, executed, startedAt, action, harm
                    FROM pipelineWorkflow WHERE runId = ? ORDER BY seq, ordinal
                    """, arguments: [runId])
            while let row = try workflows.next() {
                var state = states[row[0]] ?? MessageState()
                if state.suppressedBy == nil { state.suppressedBy = row[1] }
                if let queued: Double = row[2] { state.queued = max(state.queued ?? 0, queued) }
                if (row[3] as Int) != 0 {
                    let startedAt: Double = row[4]
                    state.executedAt = min(state.executedAt ?? startedAt, startedAt)
                    state.executedActions.append(row[5])
                    for harm in (row[6] as String?).flatMap({ try? JSONParser.parse($0).arrayElements }) ?? [] {
                        if let harm = harm.stringValue.flatMap(Harm.init(rawValue:)) { state.harms.insert(harm) }
                    }
                }
                states[row[0]] = state
            }
            let approvals = try Row.fetchCursor(
                db, sql: "SELECT seq, answer FROM pipelineApproval WHERE runId = ?", arguments: [runId])
            while let row = try approvals.next() { states[row[0], default: MessageState()].approval = row[1] }
            return states
        }
    }

    /// Why a run cannot be exported this way.
    package enum ExportError: LocalizedError, Equatable {
        case noPipeline(String)

        package var errorDescription: String? {
            switch self {
            case .noPipeline(let runId):
                return "run \(runId) has no pipeline replay (its scenario has no pipeline: section)"
            }
        }
    }

    /// Writes every message of a run's pipeline replay, in receive order.
    /// - Returns: how many rows were written.
    /// - Throws: ``RunError/unknownRun(_:)``, ``ExportError/noPipeline(_:)`` and store errors.
    package static func export(
        store: Store, runId: String, format: ResultExporter.Format, write: (String) throws -> Void
    ) throws -> Int {
        try store.queue.read { db in
            _ = try RunRecord.find(db, id: runId)
            guard try PipelineMessageRecord.timeScale(db, runId: runId) != nil else {
                throw ExportError.noPipeline(runId)
            }
            if format == .csv { try write(columns.joined(separator: ",")) }
            let rows = try PipelineMessageRecord.exportRows(db, runId: runId)
            let states = try MessageState.read(db, runId: runId)
            let none = MessageState().values
            var count = 0
            while let row = try rows.next() {
                func text(_ index: Int) -> JSONValue { (row[index] as String?).map(JSONValue.string) ?? .null }
                func integer(_ index: Int) -> JSONValue { (row[index] as Int64?).map { .integer(String($0)) } ?? .null }
                let outcome = row[11] as String?
                // SQLite has no NaN: an ok decision without a stored confidence had NaN.
                let confidence: JSONValue =
                    (row[16] as Double?).map(JSONValue.double)
                    ?? (outcome == Verdict.Outcome.ok.rawValue || outcome == Verdict.Outcome.unknownAction.rawValue
                        ? .double(.nan) : .null)
                let actions: JSONValue =
                    (row[17] as String?).flatMap { try? JSONParser.parse($0, options: .python) } ?? .null
                let values: [JSONValue] =
                    [
                        integer(0), integer(1),
                        .string(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: row[2]))),
                        .double(row[3]), text(4), text(5), text(6), .bool(row[7]), integer(8), integer(9),
                        .bool(row[10]),
                        text(11), text(12), text(13), text(14), text(15), confidence, actions, integer(18), integer(19),
                        text(20), text(21), text(22),
                        (row[23] as String?).flatMap { try? JSONParser.parse($0, options: .python) } ?? .null,
                        integer(24),
                    ] + (states[row[0]]?.values ?? none)
                switch format {
                case .jsonl:
                    let object = JSONValue.object(Array(zip(columns, values)).map { ($0, $1) })
                    try write(PythonJSONEncoder.string(DecisionCheck.vectorForm(object)))
                case .csv:
                    try write(values.map(ResultExporter.csvField).joined(separator: ","))
                }
                count += 1
            }
            return count
        }
    }
}

import Foundation
import GRDB

/// Writes the response cache as JSON Lines that ``ReplyImporter`` reads back: `incident_id`, `sample`,
/// `provider`, `model`, `text`, `stop_reason`, `usage`, `latency_ms`, `request_sha256`, `user_sha256`,
/// `system_sha256`, `recorded_at` — plus `http_status` and `error` for a stored HTTP error.
package enum ReplyExporter {
    /// Which replies to write.
    package struct Filter: Sendable {
        /// Only this model's.
        package var model: String?
        /// Only the replies a run judged.
        package var runId: String?

        package init(model: String? = nil, runId: String? = nil) {
            self.model = model
            self.runId = runId
        }
    }

    /// Writes the matching replies, oldest first, one line each.
    /// - Returns: how many lines were written.
    package static func export(store: Store, filter: Filter, write: (String) throws -> Void) throws -> Int {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let model = filter.model {
            conditions.append("reply.model = ?")
            _ = arguments.append(contentsOf: [model])
        }
        if let runId = filter.runId {
            conditions.append("reply.id IN (SELECT replyId FROM result WHERE runId = ?)")
            _ = arguments.append(contentsOf: [runId])
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        var count = 0
        try store.queue.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT * FROM reply \(whereClause) ORDER BY id", arguments: arguments)
            while let row = try rows.next() {
                var members: [(key: String, value: JSONValue)] = [
                    ("incident_id", .string(row["incidentId"])),
                    ("sample", .integer(String(row["sample"] as Int))),
                    ("provider", .string(row["provider"])),
                    ("model", .string(row["model"])),
                    ("text", (row["text"] as String?).map { .string($0) } ?? .null),
                    ("stop_reason", (row["stopReason"] as String?).map { .string($0) } ?? .null),
                    ("usage", (row["usage"] as String?).flatMap { try? JSONParser.parse($0) } ?? .null),
                    ("latency_ms", (row["latencyMs"] as Double?).map { .double($0) } ?? .null),
                    ("request_sha256", (row["requestSha256"] as String?).map { .string($0) } ?? .null),
                    ("user_sha256", .string(row["userSha256"])),
                    ("system_sha256", (row["systemSha256"] as String?).map { .string($0) } ?? .null),
                    ("recorded_at", .string(row["recordedAt"])),
                ]
                if let status = row["httpStatus"] as Int?, !(200..<300).contains(status) {
                    members.append(("http_status", .integer(String(status))))
                    members.append(("error", (row["error"] as String?).map { .string($0) } ?? .null))
                }
                try write(PythonJSONEncoder.string(.object(members)))
                count += 1
            }
        }
        return count
    }
}

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
        var count = 0
        try store.queue.read { db in
            let replies = try ReplyRecord.exported(model: filter.model, runId: filter.runId).fetchCursor(db)
            while let reply = try replies.next() {
                var members: [(key: String, value: JSONValue)] = [
                    ("incident_id", .string(reply.incidentId)),
                    ("sample", .integer(String(reply.sample))),
                    ("provider", .string(reply.provider)),
                    ("model", .string(reply.model)),
                    ("text", reply.text.map { .string($0) } ?? .null),
                    ("stop_reason", reply.stopReason.map { .string($0) } ?? .null),
                    ("usage", reply.usage.flatMap { try? JSONParser.parse($0) } ?? .null),
                    ("latency_ms", reply.latencyMs.map { .double($0) } ?? .null),
                    ("request_sha256", reply.requestSha256.map { .string($0) } ?? .null),
                    ("user_sha256", .string(reply.userSha256)),
                    ("system_sha256", reply.systemSha256.map { .string($0) } ?? .null),
                    ("recorded_at", .string(reply.recordedAt)),
                ]
                if let status = reply.httpStatus, !(200..<300).contains(status) {
                    members.append(("http_status", .integer(String(status))))
                    members.append(("error", reply.error.map { .string($0) } ?? .null))
                }
                try write(PythonJSONEncoder.string(.object(members)))
                count += 1
            }
        }
        return count
    }
}

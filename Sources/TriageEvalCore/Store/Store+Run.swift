import Foundation
import GRDB

/// One evaluation run of a scenario (`run`).
struct RunRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "run"

    /// `<scenario>-<UTC time>`, with a numeric suffix when taken.
    var id: String
    var scenario: String
    var scenarioPath: String
    /// The scenario file's text (a resume checks that it is unchanged).
    var scenarioText: String
    /// The effective configuration as JSON (never a key, only the variable's name).
    var config: String
    var corpus: String
    var catalogId: Int64
    var systemPromptSha256: String
    var provider: String
    var model: String
    var samples: Int
    var threshold: Double
    var approvalGate: Bool
    var cacheMode: String
    var matchMode: String
    /// `running` until every result is stored, then `complete`.
    var status: String
    var startedAt: String
    var finishedAt: String?
    /// The labels the run was judged against.
    var labelSetId: Int64?
    /// How many incidents the corpus had when the run started.
    var corpusIncidents: Int?
    /// The shard this run is (`I/N`, ``Shard``); nil for a whole run.
    var shard: String? = nil
    /// For a run merged from shards (`merge`), how many.
    var mergedShards: Int? = nil

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let scenario = Column(CodingKeys.scenario)
        static let status = Column(CodingKeys.status)
        static let startedAt = Column(CodingKeys.startedAt)
        static let finishedAt = Column(CodingKeys.finishedAt)
    }

    /// The run, or ``RunError/unknownRun(_:)``.
    static func find(_ db: Database, id: String) throws -> RunRecord {
        guard let run = try RunRecord.fetchOne(db, key: id) else { throw RunError.unknownRun(id) }
        return run
    }

    /// Marks a run complete.
    static func markComplete(_ db: Database, id: String, at date: Date) throws {
        try RunRecord.filter(key: id).updateAll(
            db, Columns.status.set(to: "complete"), Columns.finishedAt.set(to: UTCTimestamp.string(date)))
    }

    /// `<scenario>-<UTC time of date>`, with a numeric suffix if that id exists.
    static func newId(_ db: Database, scenario: String, at date: Date) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let base = "\(scenario)-\(formatter.string(from: date))"
        var id = base
        var suffix = 2
        while try RunRecord.exists(db, key: id) {
            id = "\(base)-\(suffix)"
            suffix += 1
        }
        return id
    }

    /// A run id, or the latest complete run of a scenario (by file path or by name), other than `excluding`.
    static func baseline(_ db: Database, reference: String, excluding: String?) throws -> String? {
        if reference != excluding, try RunRecord.exists(db, key: reference) { return reference }
        let wanted = URL(fileURLWithPath: reference).standardizedFileURL.path
        let complete = try RunRecord.filter(Columns.status == "complete")
            .order(Columns.startedAt.desc, Columns.id.desc).fetchAll(db)
        return complete.first { run in
            run.id != excluding
                && (URL(fileURLWithPath: run.scenarioPath).standardizedFileURL.path == wanted
                    || run.scenario == reference)
        }?.id
    }
}

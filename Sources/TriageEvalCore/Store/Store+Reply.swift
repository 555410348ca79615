import Foundation
import GRDB

/// A model reply in the response cache (`reply`): a live call's, or one imported with `cache import`.
///
/// A live call stores its request key (`requestSha256`: everything that shapes the answer) and event key
/// (incident, `userSha256`, provider, model, sample); an imported reply without its request has only the event key.
/// `text` is nil when the call ended in an HTTP error that is a result (such as a context-length 400).
struct ReplyRecord: Sendable, FetchableRecord, TableRecord {
    static let databaseTableName = "reply"

    var id: Int64?
    var incidentId: String
    var sample: Int
    var provider: String
    var model: String
    var requestSha256: String?
    var userSha256: String
    var systemSha256: String?
    var text: String?
    var stopReason: String?
    /// The provider's usage object as JSON.
    var usage: String?
    var inputTokens: Int?
    var outputTokens: Int?
    var httpStatus: Int?
    var error: String?
    /// The response body as received (live calls).
    var rawBody: [UInt8]?
    var latencyMs: Double?
    var attempts: Int?
    /// `live`, or the `file:line` it was imported from.
    var source: String
    var recordedAt: String

    enum Columns {
        static let id = Column("id")
        static let model = Column("model")
    }

    init(
        id: Int64? = nil, incidentId: String, sample: Int, provider: String, model: String, requestSha256: String?,
        userSha256: String, systemSha256: String?, text: String?, stopReason: String?, usage: String?,
        inputTokens: Int?, outputTokens: Int?, httpStatus: Int?, error: String?, rawBody: [UInt8]?,
        latencyMs: Double?, attempts: Int?, source: String, recordedAt: String
    ) {
        self.id = id
        self.incidentId = incidentId
        self.sample = sample
        self.provider = provider
        self.model = model
        self.requestSha256 = requestSha256
        self.userSha256 = userSha256
        self.systemSha256 = systemSha256
        self.text = text
        self.stopReason = stopReason
        self.usage = usage
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.httpStatus = httpStatus
        self.error = error
        self.rawBody = rawBody
        self.latencyMs = latencyMs
        self.attempts = attempts
        self.source = source
        self.recordedAt = recordedAt
    }

    /// Decoded by column name.
    init(row: Row) {
        id = row["id"]
        incidentId = row["incidentId"]
        sample = row["sample"]
        provider = row["provider"]
        model = row["model"]
        requestSha256 = row["requestSha256"]
        userSha256 = row["userSha256"]
        systemSha256 = row["systemSha256"]
        text = row["text"]
        stopReason = row["stopReason"]
        usage = row["usage"]
        inputTokens = row["inputTokens"]
        outputTokens = row["outputTokens"]
        httpStatus = row["httpStatus"]
        error = row["error"]
        rawBody = (row["rawBody"] as Data?).map(Array.init)
        latencyMs = row["latencyMs"]
        attempts = row["attempts"]
        source = row["source"]
        recordedAt = row["recordedAt"]
    }

    /// The one insert of a reply, for live calls (group commit) and `cache import` alike: raw statements on
    /// measured paths (`scripts/bench-runner`'s live runs; 100,000 imported lines in under a second).
    static let insertSQL = """
        INSERT INTO reply (incidentId, sample, provider, model, requestSha256, userSha256, systemSha256, text,
            stopReason, usage, inputTokens, outputTokens, httpStatus, error, rawBody, latencyMs, attempts, source,
            recordedAt)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Binds the record to a statement prepared from ``insertSQL``, runs it and returns the reply's id.
    func insert(with statement: RawStatement) throws -> Int64 {
        statement.bind(1, incidentId)
        statement.bind(2, Int64(sample))
        statement.bind(3, provider)
        statement.bind(4, model)
        statement.bind(5, requestSha256)
        statement.bind(6, userSha256)
        statement.bind(7, systemSha256)
        statement.bind(8, text)
        statement.bind(9, stopReason)
        statement.bind(10, usage)
        statement.bind(11, inputTokens.map(Int64.init))
        statement.bind(12, outputTokens.map(Int64.init))
        statement.bind(13, httpStatus.map(Int64.init))
        statement.bind(14, error)
        if let rawBody {
            rawBody.withUnsafeBufferPointer { statement.bind(15, blob: $0) }
        } else {
            statement.bind(15, nil as String?)
        }
        statement.bind(16, latencyMs)
        statement.bind(17, attempts.map(Int64.init))
        statement.bind(18, source)
        statement.bind(19, recordedAt)
        try statement.run()
        return statement.lastInsertedRowID
    }

    /// The replies stored for one incident's event key, by sample and then oldest first — the `reply_event`
    /// index's order, so no sort. A raw statement on a measured hot path (the cache lookup of every replay, one
    /// query per incident: `scripts/bench-runner`); ``EventReplies`` reads its columns.
    static let eventLookupSQL = """
        SELECT id, sample, requestSha256, systemSha256, text, error, inputTokens, outputTokens FROM reply
        WHERE incidentId = ? AND userSha256 = ? AND provider = ? AND model = ? ORDER BY sample, id
        """

    /// The rows of ``eventLookupSQL`` for one event key in turn, each column read only when asked for.
    struct EventReplies {
        private let statement: RawStatement

        init(_ db: Database) throws {
            statement = try RawStatement(db, sql: eventLookupSQL)
        }

        /// Starts the replies of an event key.
        func select(incidentId: String, userSha256: String, provider: String, model: String) {
            statement.bind(1, incidentId)
            statement.bind(2, userSha256)
            statement.bind(3, provider)
            statement.bind(4, model)
        }

        /// Moves to the next reply; false after the last.
        func next() throws -> Bool { try statement.step() }

        var id: Int64 { Int64(statement.int(0)) }
        var sample: Int { statement.int(1) }
        var requestSha256: String? { statement.text(2) }
        /// Whether it was recorded under this system prompt (its SHA-256's UTF-8 bytes).
        func hasSystemSha256(_ utf8: [UInt8]) -> Bool { statement.textEquals(3, utf8) }
        var text: String? { statement.text(4) }
        var error: String? { statement.text(5) }
        var inputTokens: Int? { statement.isNull(6) ? nil : statement.int(6) }
        var outputTokens: Int? { statement.isNull(7) ? nil : statement.int(7) }
    }

    /// The stored replies of one incident from one model, every user message's, grouped by user message, then by
    /// sample and oldest first — the `reply_event` index's order again. The pipeline replay reads an incident's
    /// replies at once: a query per incident, not one per message.
    struct IncidentReplies {
        private let statement: RawStatement

        init(_ db: Database, provider: String, model: String) throws {
            statement = try RawStatement(
                db,
                sql: """
                    SELECT userSha256, id, sample, systemSha256, text, error, inputTokens, outputTokens FROM reply
                    WHERE incidentId = ?3 AND provider = ?1 AND model = ?2
                    """)
            statement.bind(1, provider)
            statement.bind(2, model)
        }

        /// The replies to each user message of an incident under `same-event` matching, by the user message's
        /// SHA-256: one per sample in sample order, one recorded under the current system prompt (its SHA-256's
        /// UTF-8 bytes) before a stale one, the newest first.
        ///
        /// The rows are put in (user message, sample, id) order here, not by an `ORDER BY`: SQLite 3.40 sorts that
        /// order in a temporary B-tree for every incident (its index has the provider and model between the user
        /// message and the sample), where an incident has a few rows.
        func sameEvent(incidentId: String, systemSha256: [UInt8]) throws -> [String: [PipelineReplay.Reply]] {
            statement.bind(3, incidentId)
            var rows: [(userSha256: String, reply: PipelineReplay.Reply, stale: Bool)] = []
            while try statement.step() {
                rows.append(
                    (
                        statement.text(0) ?? "",
                        PipelineReplay.Reply(
                            id: Int64(statement.int(1)), sample: statement.int(2), text: statement.text(4),
                            error: statement.text(5), inputTokens: statement.isNull(6) ? nil : statement.int(6),
                            outputTokens: statement.isNull(7) ? nil : statement.int(7)),
                        !statement.textEquals(3, systemSha256)
                    ))
            }
            rows.sort { ($0.userSha256, $0.reply.sample, $0.reply.id) < ($1.userSha256, $1.reply.sample, $1.reply.id) }
            var byUser: [String: [PipelineReplay.Reply]] = [:]
            var user: String?
            var selector = SampleSelector()
            for row in rows {
                if row.userSha256 != user {
                    if let user { byUser[user] = selector.replies }
                    user = row.userSha256
                    selector = SampleSelector()
                }
                selector.add(row.reply, stale: row.stale)
            }
            if let user { byUser[user] = selector.replies }
            return byUser
        }
    }

    /// Picks one reply per sample from rows in sample order, oldest first: a later row of a sample replaces the
    /// one before, except that a stale one (another system prompt) never replaces a current one.
    struct SampleSelector {
        private var bySample: [(reply: PipelineReplay.Reply, stale: Bool)] = []

        mutating func add(_ reply: PipelineReplay.Reply, stale: Bool) {
            if bySample.last?.reply.sample == reply.sample {
                if stale, !bySample[bySample.count - 1].stale { return }
                bySample[bySample.count - 1] = (reply, stale)
            } else {
                bySample.append((reply, stale))
            }
        }

        var replies: [PipelineReplay.Reply] { bySample.map(\.reply) }
    }

    /// The stored replies of one (incident, provider, model, sample, user message), for `cache import`'s check
    /// for a reply already present (prepared once per file: see ``ReplyImporter``); ``SameEventReplies`` reads
    /// its columns.
    static let sameEventSQL = """
        SELECT text, requestSha256 FROM reply
        WHERE incidentId = ? AND provider = ? AND model = ? AND sample = ? AND userSha256 = ?
        """

    /// The rows of ``sameEventSQL`` in turn.
    struct SameEventReplies {
        private let statement: RawStatement

        init(_ db: Database) throws {
            statement = try RawStatement(db, sql: sameEventSQL)
        }

        /// Starts the replies of one (incident, provider, model, sample, user message).
        func select(incidentId: String, provider: String, model: String, sample: Int, userSha256: String?) {
            statement.bind(1, incidentId)
            statement.bind(2, provider)
            statement.bind(3, model)
            statement.bind(4, Int64(sample))
            statement.bind(5, userSha256)
        }

        /// Moves to the next reply; false after the last.
        func next() throws -> Bool { try statement.step() }

        var text: String? { statement.text(0) }
        var requestSha256: String? { statement.text(1) }
    }

    /// Replies to export, oldest first: one model's, the replies a run judged (for its incidents, and for the
    /// messages of its pipeline replay), or all.
    static func exported(model: String?, runId: String?) -> QueryInterfaceRequest<ReplyRecord> {
        var request = ReplyRecord.all()
        if let model { request = request.filter(Columns.model == model) }
        if let runId {
            request = request.filter(
                sql: """
                    reply.id IN (SELECT replyId FROM result WHERE runId = ?) \
                    OR reply.id IN (SELECT replyId FROM pipelineMessage WHERE runId = ?)
                    """, arguments: [runId, runId])
        }
        return request.order(Columns.id)
    }
}

extension ReplyRecord {
    /// The stored replies of one user message, one per sample in sample order, for the pipeline replay, under the
    /// scenario's match mode: `exact` takes only replies to this very request, `same-event` any reply to the user
    /// message, one recorded under the current system prompt before a stale one, the newest first.
    static func samples(
        _ replies: EventReplies, incidentId: String, userSha256: String, scenario: Scenario, systemSha256: [UInt8],
        request: (Int) -> ModelRequest
    ) throws -> [PipelineReplay.Reply] {
        replies.select(
            incidentId: incidentId, userSha256: userSha256, provider: scenario.model.provider.rawValue,
            model: scenario.model.name)
        // Rows come by sample, oldest first (the index's order).
        var selector = SampleSelector()
        while try replies.next() {
            let sample = replies.sample
            if scenario.match == .exact, replies.requestSha256 != request(sample).requestSha256 { continue }
            selector.add(
                PipelineReplay.Reply(
                    id: replies.id, sample: sample, text: replies.text, error: replies.error,
                    inputTokens: replies.inputTokens, outputTokens: replies.outputTokens),
                // An exact match is one request: staleness never decides between its rows.
                stale: scenario.match == .sameEvent && !replies.hasSystemSha256(systemSha256))
        }
        return selector.replies
    }
}

extension ReplyRecord {
    /// A stored reply identical to another store's: the same keys, text, error and status; for a live call's
    /// reply, recorded at the same time (two live calls are two replies, whatever they said).
    static let identicalSQL = """
        SELECT id FROM reply
        WHERE incidentId = ? AND userSha256 = ? AND provider = ? AND model = ? AND sample = ?
          AND requestSha256 IS ? AND systemSha256 IS ? AND text IS ? AND error IS ? AND httpStatus IS ?
          AND ((?11 AND source = 'live' AND recordedAt = ?12) OR (NOT ?11 AND source <> 'live'))
        ORDER BY id LIMIT 1
        """

    /// The id of a stored reply identical to this one (``identicalSQL``), if any.
    func identical(with statement: RawStatement) throws -> Int64? {
        statement.bind(1, incidentId)
        statement.bind(2, userSha256)
        statement.bind(3, provider)
        statement.bind(4, model)
        statement.bind(5, Int64(sample))
        statement.bind(6, requestSha256)
        statement.bind(7, systemSha256)
        statement.bind(8, text)
        statement.bind(9, error)
        statement.bind(10, httpStatus.map(Int64.init))
        statement.bind(11, source == "live")
        statement.bind(12, recordedAt)
        return try statement.firstInteger()
    }

    /// Whether a reply is stored under an event key (incident, user message, provider, model, sample).
    static let eventKeyExistsSQL = """
        SELECT 1 FROM reply
        WHERE incidentId = ? AND userSha256 = ? AND provider = ? AND model = ? AND sample = ? LIMIT 1
        """

    /// Whether a reply to a request's event key is stored, with a statement prepared from ``eventKeyExistsSQL``.
    static func exists(with statement: RawStatement, incidentId: String, request: ModelRequest) throws -> Bool {
        statement.bind(1, incidentId)
        statement.bind(2, request.userSha256)
        statement.bind(3, request.provider)
        statement.bind(4, request.model)
        statement.bind(5, Int64(request.sample))
        return try statement.firstInteger() != nil
    }
}

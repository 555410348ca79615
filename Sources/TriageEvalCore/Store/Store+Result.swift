import Foundation
import GRDB

/// The `result` record of one (incident, sample) of a run: a ``Judgement`` in the table's columns. Built away
/// from the store (on any thread, in parallel), then written in batches by ``ResultStore``.
struct ResultRecord: Sendable, TableRecord {
    static let databaseTableName = "result"

    /// Whether the run holds an earlier row for this sample (a transport failure being retried by a resume).
    var replacesEarlier: Bool
    var runId: String
    var incidentId: String
    var sample: Int
    var replyId: Int64?
    var cacheHit: Bool
    var stale: Bool
    var transportError: String?
    var outcome: String
    var failureClass: String
    var errors: String
    var syntaxErrorOffset: Int?
    var decision: String?
    var confidence: Double?
    var needsHuman: Bool?
    var actionNames: String
    var policyViolations: String
    var productionRoute: String
    var route: String
    var routeReason: String
    var expect: String
    var expectedRoute: String
    var decisionCorrect: Bool
    var routeCorrect: Bool
    var unsafe: Bool
    var correctIfExecuted: Bool
    var unsafeIfExecuted: Bool
    var gated: Bool
    var actionsMatched: String
    var actionsExtra: String
    var actionsMissed: String

    /// The record of a judged sample. `judgement` must carry the scores (judged with `label`).
    init(
        runId: String, label: Label, sample: Int, judgement: Judgement, replyId: Int64?, cacheHit: Bool, stale: Bool,
        replacesEarlier: Bool
    ) {
        let score = judgement.score!
        let decision = judgement.decision
        self.replacesEarlier = replacesEarlier
        self.runId = runId
        incidentId = label.incidentId
        self.sample = sample
        self.replyId = replyId
        self.cacheHit = cacheHit
        self.stale = stale
        transportError = judgement.transportError
        outcome = judgement.verdict?.outcome.rawValue ?? "no_reply"
        failureClass = judgement.failureClass.rawValue
        let issues = judgement.verdict?.errors ?? []
        errors =
            issues.isEmpty
            ? "[]"
            : PythonJSONEncoder.string(
                .array(
                    issues.map { issue in
                        .object([("type", .string(issue.type)), ("loc", .array(issue.loc.map(\.jsonValue)))])
                    }))
        syntaxErrorOffset = judgement.verdict?.syntaxErrorOffset
        self.decision = decision?.pythonJSON
        confidence = decision.flatMap { $0.confidence.isNaN ? nil : $0.confidence }
        needsHuman = decision?.needsHuman
        actionNames = Self.nameList((decision?.actions ?? []).map(\.name))
        policyViolations =
            judgement.policyViolations.isEmpty
            ? "[]" : PythonJSONEncoder.string(.array(judgement.policyViolations.map(\.jsonValue)))
        productionRoute = judgement.productionRoute.route.rawValue
        route = judgement.finalRoute.route.rawValue
        routeReason = judgement.finalRoute.reason.rawValue
        expect = label.expect.rawValue
        expectedRoute = score.expectedRoute.rawValue
        decisionCorrect = score.decisionCorrect
        routeCorrect = score.routeCorrect
        unsafe = score.unsafe
        correctIfExecuted = score.correctIfExecuted
        unsafeIfExecuted = score.unsafeIfExecuted
        gated = score.gated
        actionsMatched = Self.nameList(score.matched)
        actionsExtra = Self.nameList(score.extra)
        actionsMissed = Self.nameList(score.missed)
    }

    /// A JSON list of action names.
    private static func nameList(_ names: [String]) -> String { PythonJSONEncoder.string(list: names) }

    /// The insert: raw statements on a measured hot path (`scripts/bench-runner`'s replay of 100,000 cached
    /// samples, bound by this insert), texts bound in place. Not `INSERT OR REPLACE`: with foreign keys on, SQLite writes a statement journal (a page per
    /// row, to a temporary file) for a statement that may delete; an earlier row is deleted first instead, when
    /// there is one.
    static let insertSQL = """
        INSERT INTO result (runId, incidentId, sample, replyId, cacheHit, stale, transportError, outcome,
            failureClass, errors, syntaxErrorOffset, decision, confidence, needsHuman, actionNames, policyViolations,
            productionRoute, route, routeReason, expect, expectedRoute, decisionCorrect, routeCorrect, unsafe,
            correctIfExecuted, unsafeIfExecuted, gated, actionsMatched, actionsExtra, actionsMissed)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    // MARK: - Reading

    enum Columns {
        static let runId = Column("runId")
        static let incidentId = Column("incidentId")
        static let sample = Column("sample")
        static let failureClass = Column("failureClass")
        static let decisionCorrect = Column("decisionCorrect")
        static let unsafe = Column("unsafe")
    }

    /// How many results a run has.
    static func count(_ db: Database, runId: String) throws -> Int {
        try ResultRecord.filter(Columns.runId == runId).fetchCount(db)
    }

    /// How many of a run's results are transport failures (calls to retry).
    /// A run's results whose call failed in transport and stored no reply: what a resume calls again. (A stored
    /// reply that is an error — a timeout recorded with a corpus, say — is a result like any other.)
    static func retryableFailureCount(_ db: Database, runId: String) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT count(*) FROM result WHERE runId = ? AND failureClass = ? AND replyId IS NULL",
            arguments: [runId, FailureClass.transport.rawValue]) ?? 0
    }

    static func transportFailureCount(_ db: Database, runId: String) throws -> Int {
        try ResultRecord.filter(Columns.runId == runId && Columns.failureClass == FailureClass.transport.rawValue)
            .fetchCount(db)
    }

    /// How many incidents a run has results for.
    static func incidentCount(_ db: Database, runId: String) throws -> Int {
        try ResultRecord.filter(Columns.runId == runId).select(Columns.incidentId).distinct().fetchCount(db)
    }

    /// The failure class of every stored (incident, sample) of a run, for a resume.
    static func failureClasses(_ db: Database, runId: String) throws -> [SampleKey: FailureClass] {
        var classes: [SampleKey: FailureClass] = [:]
        let rows = try ResultRecord.filter(Columns.runId == runId)
            .select(Columns.incidentId, Columns.sample, Columns.failureClass).asRequest(of: Row.self).fetchCursor(db)
        while let row = try rows.next() {
            let key = SampleKey(incidentId: row[Columns.incidentId], sample: row[Columns.sample])
            classes[key] = FailureClass(rawValue: row[Columns.failureClass]) ?? .transport
        }
        return classes
    }

    /// Results whose decision is wrong or unsafe.
    static func failing(runId: String) -> QueryInterfaceRequest<ResultRecord> {
        ResultRecord.filter(Columns.runId == runId && (Columns.decisionCorrect == false || Columns.unsafe == true))
            .order(Columns.incidentId, Columns.sample)
    }

    /// Each incident of a run in id order (as ``failing(runId:)`` orders them), with how many of its samples fail.
    static func incidentTallies(_ db: Database, runId: String) throws -> [(incidentId: String, failing: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT incidentId, SUM(decisionCorrect = 0 OR unsafe = 1) AS failing
                FROM result WHERE runId = ? GROUP BY incidentId ORDER BY incidentId
                """, arguments: [runId]
        ).map { ($0["incidentId"], $0["failing"]) }
    }

    /// Deletes the earlier row of a sample.
    static let deleteSQL = "DELETE FROM result WHERE runId = ? AND incidentId = ? AND sample = ?"

    /// Stores the row: statements prepared from ``deleteSQL`` (run first when the row replaces an earlier one) and
    /// ``insertSQL``; `texts` is scratch space kept from row to row.
    func store(delete: RawStatement, insert statement: RawStatement, texts: inout RawStatement.Texts) throws {
        if replacesEarlier {
            delete.bind(1, runId)
            delete.bind(2, incidentId)
            delete.bind(3, Int64(sample))
            try delete.run()
        }
        texts.removeAll()
        texts.add(1, runId)
        texts.add(2, incidentId)
        statement.bind(3, Int64(sample))
        statement.bind(4, replyId)
        statement.bind(5, cacheHit)
        statement.bind(6, stale)
        texts.add(7, transportError)
        texts.add(8, outcome)
        texts.add(9, failureClass)
        texts.add(10, errors)
        statement.bind(11, syntaxErrorOffset.map(Int64.init))
        texts.add(12, decision)
        statement.bind(13, confidence)
        statement.bind(14, needsHuman)
        texts.add(15, actionNames)
        texts.add(16, policyViolations)
        texts.add(17, productionRoute)
        texts.add(18, route)
        texts.add(19, routeReason)
        texts.add(20, expect)
        texts.add(21, expectedRoute)
        statement.bind(22, decisionCorrect)
        statement.bind(23, routeCorrect)
        statement.bind(24, unsafe)
        statement.bind(25, correctIfExecuted)
        statement.bind(26, unsafeIfExecuted)
        statement.bind(27, gated)
        texts.add(28, actionsMatched)
        texts.add(29, actionsExtra)
        texts.add(30, actionsMissed)
        try statement.run(texts: texts)
    }
}

/// One stored result (with its reply's usage) as the report scan reads it.
struct ScannedResult {
    var incidentId: String
    var sample: Int
    var failureClass: String
    var route: String
    var expect: String
    var expectedRoute: String
    var decisionCorrect: Bool
    var routeCorrect: Bool
    var unsafe: Bool
    /// NULL for NaN (SQLite has no NaN).
    var confidence: Double?
    var needsHuman: Bool
    var gated: Bool
    var correctIfExecuted: Bool
    var unsafeIfExecuted: Bool
    var policyViolations: String?
    var actionsMatched: String?
    var actionsExtra: String?
    var actionsMissed: String?
    var cacheHit: Bool
    var stale: Bool
    var transportError: String?
    var replyId: Int?
    var inputTokens: Int
    var outputTokens: Int
    var latencyMs: Double?
    var stoppedAtMaxTokens: Bool
    /// The route production's own code gives (the seed's router, without the scenario's policies).
    var productionRoute: String
    /// Whether the decision chose no action (an invalid reply chose none).
    var choseNothing: Bool

    /// The report scan's query: a raw statement on the measured hot path of `report` (`scripts/bench-report`:
    /// 1,000,000 results in about 2.4 s), decoded by position in ``init(_:)`` right beside it.
    static let sql = """
        SELECT result.failureClass, result.route, result.expect, result.decisionCorrect,
            result.routeCorrect, result.unsafe, result.confidence, result.policyViolations,
            result.cacheHit, result.stale, result.transportError, result.replyId,
            reply.inputTokens, reply.outputTokens, reply.latencyMs, reply.stopReason, result.expectedRoute,
            result.needsHuman, result.gated, result.correctIfExecuted, result.unsafeIfExecuted,
            result.actionsMatched, result.actionsExtra, result.actionsMissed, result.incidentId, result.sample,
            result.productionRoute, result.actionNames
        FROM result LEFT JOIN reply ON reply.id = result.replyId
        WHERE result.runId = ?
        ORDER BY result.incidentId, result.sample
        """

    var isTransport: Bool { failureClass == FailureClass.transport.rawValue }
    var isOK: Bool { failureClass == FailureClass.ok.rawValue }
}

extension ScannedResult {
    /// The row at a statement of ``sql``.
    init(_ statement: RawStatement) {
        self.init(
            incidentId: statement.text(24) ?? "", sample: statement.int(25),
            failureClass: statement.text(0) ?? "", route: statement.text(1) ?? "",
            expect: statement.text(2) ?? "", expectedRoute: statement.text(16) ?? "",
            decisionCorrect: statement.int(3) != 0, routeCorrect: statement.int(4) != 0,
            unsafe: statement.int(5) != 0, confidence: statement.double(6), needsHuman: statement.int(17) != 0,
            gated: statement.int(18) != 0, correctIfExecuted: statement.int(19) != 0,
            unsafeIfExecuted: statement.int(20) != 0, policyViolations: statement.text(7),
            actionsMatched: statement.text(21), actionsExtra: statement.text(22),
            actionsMissed: statement.text(23), cacheHit: statement.int(8) != 0, stale: statement.int(9) != 0,
            transportError: statement.text(10), replyId: statement.isNull(11) ? nil : statement.int(11),
            inputTokens: statement.int(12), outputTokens: statement.int(13), latencyMs: statement.double(14),
            stoppedAtMaxTokens: statement.textEquals(15, "max_tokens"),
            productionRoute: statement.text(26) ?? "", choseNothing: statement.textEquals(27, "[]"))
    }
}

import Foundation
import GRDB

/// The `result` record of one (incident, sample) of a run: a ``Judgement`` in the table's columns. Built away
/// from the store (on any thread, in parallel), then written in batches by ``ResultStore``.
struct ResultRow: Sendable {
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

    /// The insert. Not `INSERT OR REPLACE`: with foreign keys on, SQLite writes a statement journal (a page per
    /// row, to a temporary file) for a statement that may delete; an earlier row is deleted first instead, when
    /// there is one.
    static let insertSQL = """
        INSERT INTO result (runId, incidentId, sample, replyId, cacheHit, stale, transportError, outcome,
            failureClass, errors, syntaxErrorOffset, decision, confidence, needsHuman, actionNames, policyViolations,
            productionRoute, route, routeReason, expect, expectedRoute, decisionCorrect, routeCorrect, unsafe,
            correctIfExecuted, unsafeIfExecuted, gated, actionsMatched, actionsExtra, actionsMissed)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

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

/// A reply as received from a live call, for the response cache.
struct ReplyRow: Sendable {
    var incidentId: String
    var sample: Int
    var provider: String
    var model: String
    var requestSha256: String
    var userSha256: String
    var systemSha256: String
    var text: String?
    var stopReason: String?
    var usage: String?
    var inputTokens: Int?
    var outputTokens: Int?
    var httpStatus: Int
    var error: String?
    var rawBody: [UInt8]
    var latencyMs: Double
    var attempts: Int
    var recordedAt: String

    static let insertSQL = """
        INSERT INTO reply (incidentId, sample, provider, model, requestSha256, userSha256, systemSha256, text,
            stopReason, usage, inputTokens, outputTokens, httpStatus, error, rawBody, latencyMs, attempts, source,
            recordedAt)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'live', ?)
        """

    /// Binds the row to a statement prepared from ``insertSQL``, runs it and returns the reply's id.
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
        statement.bind(13, Int64(httpStatus))
        statement.bind(14, error)
        rawBody.withUnsafeBufferPointer { statement.bind(15, blob: $0) }
        statement.bind(16, latencyMs)
        statement.bind(17, Int64(attempts))
        statement.bind(18, recordedAt)
        try statement.run()
        return statement.lastInsertedRowID
    }
}

import Foundation
import GRDB

extension RunReport {
    /// The stored facts of a run.
    static func runInfo(_ db: Database, runId: String) throws -> (RunInfo, JSONValue) {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT run.*, catalog.path AS catalogPath, catalog.sha256 AS catalogSha256
                    FROM run JOIN catalog ON catalog.id = run.catalogId WHERE run.id = ?
                    """,
                arguments: [runId])
        else { throw RunError.unknownRun(runId) }
        let info = RunInfo(
            id: row["id"], scenario: row["scenario"], corpus: row["corpus"], provider: row["provider"],
            model: row["model"], samples: row["samples"], threshold: row["threshold"],
            approvalGate: row["approvalGate"], catalogPath: row["catalogPath"],
            catalogSha256: row["catalogSha256"], systemPromptSha256: row["systemPromptSha256"],
            status: row["status"], startedAt: row["startedAt"], finishedAt: row["finishedAt"])
        let config = (try? JSONParser.parse(row["config"] as String)) ?? .object([])
        return (info, config)
    }

    /// Builds the report of a run from the store, in one scan of its results, without its gates.
    /// - Throws: ``RunError/unknownRun(_:)`` and store errors.
    package static func build(runId: String, store: Store) throws -> RunReport {
        try store.queue.read { db in try scan(db, runId: runId) }
    }

    /// Builds the report of a run and evaluates the scenario's gates; the regression gate first compares the run
    /// with its baseline.
    /// - Throws: ``RunError/unknownRun(_:)``, store errors, and ``RunError/noBaselineRun(_:)``.
    package static func buildGated(runId: String, store: Store) throws -> RunReport {
        var report = try build(runId: runId, store: store)
        let config = try store.queue.read { db in try runInfo(db, runId: runId).1 }
        let gates = GateConfig(config: config)
        let comparison = try Gates.compareWithBaseline(runId: runId, config: gates, store: store)
        report.gates = Gates.evaluate(report: report, config: gates, comparison: comparison)
        return report
    }

    private static let invalidClasses = FailureClass.allCases.filter(\.isInvalidJSON).map(\.rawValue)
    private static let exampleClasses = FailureClass.allCases.filter { $0 != .ok && $0 != .transport }.map(\.rawValue)

    /// Reads every result of a run once, feeding each tally, and assembles the report from them.
    ///
    /// Raw statement: this scan is the measured hot path of `report` (scripts/bench-report: 1,000,000 results in
    /// about 2.4 s); GRDB's row decoding of the 26 columns doubled it.
    static func scan(_ db: Database, runId: String) throws -> RunReport {
        let (info, config) = try runInfo(db, runId: runId)
        let settings = ReportSettings(config: config)
        let coverage = try Self.coverage(db, corpus: info.corpus, runId: runId)
        var sources = SourceTally()
        var outcomes = OutcomeTally()
        var scores = ScoreTally()
        var policy = PolicyTally()
        var calibration = CalibrationTally(byRoute: settings.correctness == .route)
        var sweep = SweepTally()

        let statement = try RawStatement(
            db,
            sql: """
                SELECT result.failureClass, result.route, result.expect, result.decisionCorrect,
                    result.routeCorrect, result.unsafe, result.confidence, result.policyViolations,
                    result.cacheHit, result.stale, result.transportError, result.replyId,
                    reply.inputTokens, reply.outputTokens, reply.latencyMs, reply.stopReason, result.expectedRoute,
                    result.needsHuman, result.gated, result.correctIfExecuted, result.unsafeIfExecuted,
                    result.actionsMatched, result.actionsExtra, result.actionsMissed, result.incidentId, result.sample
                FROM result LEFT JOIN reply ON reply.id = result.replyId
                WHERE result.runId = ?
                ORDER BY result.incidentId, result.sample
                """)
        statement.bind(1, runId)
        while try statement.step() {
            let result = ScannedResult(
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
                stoppedAtMaxTokens: statement.textEquals(15, "max_tokens"))
            sources.add(result)
            outcomes.add(result)
            scores.add(result)
            policy.add(result)
            calibration.add(result)
            sweep.add(result)
        }

        let replies = outcomes.replies
        let failureClasses = outcomes.failureClasses
        let invalid = invalidClasses.reduce(0) { $0 + (failureClasses[$1] ?? 0) }
        let pValue = Statistics.binomialUpperTail(invalid, replies, settings.invalidJSONBaseline)
        let invalidReport = InvalidJSONReport(
            replies: replies,
            invalid: Rate(invalid, of: replies),
            byClass: Dictionary(uniqueKeysWithValues: invalidClasses.map { ($0, failureClasses[$0] ?? 0) }),
            truncatedAtMaxTokens: outcomes.truncatedAtMaxTokens,
            notObject: Rate(failureClasses[FailureClass.notObject.rawValue] ?? 0, of: replies),
            schema: Rate(failureClasses[FailureClass.schema.rawValue] ?? 0, of: replies),
            unknownAction: Rate(failureClasses[FailureClass.unknownAction.rawValue] ?? 0, of: replies),
            examples: try examples(db, outcomes.exampleRefs),
            baseline: settings.invalidJSONBaseline,
            pAboveBaseline: pValue,
            aboveBaseline: replies > 0 && pValue < 0.05)
        let pricing = config["model"]?["pricing"]
        return RunReport(
            run: info,
            coverage: coverage,
            results: outcomes.results,
            replies: replies,
            transportFailures: outcomes.transport,
            sources: sources.summary(
                inputPrice: pricing?["input"]?.doubleValue, outputPrice: pricing?["output"]?.doubleValue),
            failureClasses: failureClasses,
            invalidJSON: invalidReport,
            routes: scores.routes,
            expectations: scores.expectations,
            decisionAccuracy: Rate(scores.decisionCorrect, of: replies),
            routeAccuracy: Rate(scores.routeCorrect, of: replies),
            unsafeExecutions: scores.unsafe,
            actions: scores.actions,
            routeConfusion: scores.confusion,
            nanConfidenceDecisions: calibration.nanConfidence,
            strictPolicy: policy.summary,
            calibration: Calibration.compute(
                calibration.pairs, excluded: calibration.excluded, bins: settings.bins, threshold: info.threshold,
                correctness: settings.correctness.rawValue),
            thresholdSweep: ThresholdSweep.compute(
                sweep.samples, replies: replies, currentThreshold: info.threshold,
                targetPrecision: settings.targetPrecision),
            gates: []
        )
    }

    /// Coverage from the run's own label set and the corpus's incident count when it ran, so that a report of an
    /// old run never changes.
    private static func coverage(_ db: Database, corpus: String, runId: String) throws -> Coverage {
        let incidents =
            try Int.fetchOne(db, sql: "SELECT corpusIncidents FROM run WHERE id = ?", arguments: [runId])
            ?? Runner.corpusIncidents(corpus, in: db)
        var rules: [String: Int] = [:]
        var byRule = 0
        var byHand = 0
        for label in try Store.labels(ofRun: runId, in: db) {
            if label.origin == "rule" {
                byRule += 1
                rules[label.source, default: 0] += 1
            } else {
                byHand += 1
            }
        }
        let replayed =
            try Int.fetchOne(
                db, sql: "SELECT COUNT(DISTINCT incidentId) FROM result WHERE runId = ?", arguments: [runId])
            ?? 0
        return Coverage(
            incidents: incidents, labelled: byRule + byHand, labelledByRule: byRule, labelledByHand: byHand,
            unlabelled: max(incidents - byRule - byHand, 0), replayed: replayed, rules: rules)
    }

    private static func examples(
        _ db: Database, _ refs: [String: [(incidentId: String, sample: Int, replyId: Int?)]]
    ) throws -> [String: [InvalidJSONReport.Example]] {
        var examples: [String: [InvalidJSONReport.Example]] = [:]
        for failureClass in exampleClasses {
            for ref in refs[failureClass] ?? [] {
                let row = try ref.replyId.flatMap {
                    try Row.fetchOne(db, sql: "SELECT text, stopReason FROM reply WHERE id = ?", arguments: [$0])
                }
                let text = (row?["text"] as String?) ?? ""
                examples[failureClass, default: []].append(
                    InvalidJSONReport.Example(
                        incidentId: ref.incidentId, sample: ref.sample, stopReason: row?["stopReason"],
                        text: String(text.prefix(400)), clipped: text.count > 400))
            }
        }
        return examples
    }
}

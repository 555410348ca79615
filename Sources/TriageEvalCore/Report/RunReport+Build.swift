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

    private static func scan(_ db: Database, runId: String) throws -> RunReport {
        let (info, config) = try runInfo(db, runId: runId)
        let settings = ReportSettings(config: config)
        let coverage = try Self.coverage(db, corpus: info.corpus, runId: runId)

        var failureClasses = Dictionary(
            uniqueKeysWithValues: FailureClass.allCases.filter { $0 != .transport }.map { ($0.rawValue, 0) })
        var routes = Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, 0) })
        var expectations = Dictionary(uniqueKeysWithValues: ExpectedOutcome.allCases.map { ($0.rawValue, 0) })
        var confusion = Dictionary(
            uniqueKeysWithValues: Route.allCases.map { expected in
                (expected.rawValue, Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, 0) }))
            })
        var replies = 0
        var decisionCorrect = 0
        var routeCorrect = 0
        var unsafe = 0
        var nanConfidence = 0
        var truncatedAtMaxTokens = 0
        var pairs: [(confidence: Double, correct: Bool)] = []
        var sweep: [ThresholdSweep.Sample] = []
        var okDecisions = 0
        var refused = 0
        var refusedExecutions = 0
        var violationKinds = Dictionary(uniqueKeysWithValues: PolicyViolation.Kind.allCases.map { ($0.rawValue, 0) })
        var excluded: [String: Int] = ["not_ok": 0, "non_finite_confidence": 0, "confidence_out_of_range": 0]
        var actionCounts: [String: (tp: Int, fp: Int, fn: Int)] = [:]
        var exampleRefs: [String: [(incidentId: String, sample: Int, replyId: Int?)]] = [:]
        var results = 0
        var transport: [String: Int] = [:]
        var sources = ReplySources(
            cacheHits: 0, liveCalls: 0, staleReplies: 0, inputTokens: 0, outputTokens: 0, liveInputTokens: 0,
            liveOutputTokens: 0, liveCostUSD: nil, medianLatencyMs: nil, p95LatencyMs: nil)
        var latencies: [Double] = []
        let routeByCorrectness = settings.correctness == .route

        func names(_ text: String?) -> [String] {
            guard let text, text != "[]" else { return [] }
            return (try? JSONParser.parse(text))?.arrayElements?.compactMap(\.stringValue) ?? []
        }

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
            results += 1
            let cacheHit = statement.int(8) != 0
            let hasReply = !statement.isNull(11)
            let input = statement.int(12)
            let output = statement.int(13)
            sources.inputTokens += input
            sources.outputTokens += output
            if cacheHit {
                sources.cacheHits += 1
                if statement.int(9) != 0 { sources.staleReplies += 1 }
            } else if hasReply || !statement.isNull(10) {
                sources.liveCalls += 1
                sources.liveInputTokens += input
                sources.liveOutputTokens += output
                if let latency = statement.double(14) { latencies.append(latency) }
            }
            let failureClass = statement.text(0) ?? ""
            if failureClass == FailureClass.transport.rawValue {
                transport[Self.transportKind(statement.text(10)), default: 0] += 1
                continue
            }
            replies += 1
            failureClasses[failureClass, default: 0] += 1
            let route = statement.text(1) ?? ""
            routes[route, default: 0] += 1
            expectations[statement.text(2) ?? "", default: 0] += 1
            confusion[statement.text(16) ?? "", default: [:]][route, default: 0] += 1
            let isDecisionCorrect = statement.int(3) != 0
            let isRouteCorrect = statement.int(4) != 0
            if isDecisionCorrect { decisionCorrect += 1 }
            if isRouteCorrect { routeCorrect += 1 }
            if statement.int(5) != 0 { unsafe += 1 }
            for name in names(statement.text(21)) { actionCounts[name, default: (0, 0, 0)].tp += 1 }
            for name in names(statement.text(22)) { actionCounts[name, default: (0, 0, 0)].fp += 1 }
            for name in names(statement.text(23)) { actionCounts[name, default: (0, 0, 0)].fn += 1 }
            if failureClass == FailureClass.truncated.rawValue && statement.textEquals(15, "max_tokens") {
                truncatedAtMaxTokens += 1
            }
            guard failureClass == FailureClass.ok.rawValue else {
                if exampleRefs[failureClass, default: []].count < 3 {
                    exampleRefs[failureClass, default: []].append(
                        (statement.text(24) ?? "", statement.int(25), hasReply ? statement.int(11) : nil))
                }
                excluded["not_ok", default: 0] += 1
                sweep.append(
                    ThresholdSweep.Sample(
                        eligible: false, confidence: nil, correctIfExecuted: false, unsafeIfExecuted: false, ok: false))
                continue
            }
            okDecisions += 1
            let confidence = statement.double(6)
            let needsHuman = statement.int(17) != 0
            let gated = statement.int(18) != 0
            sweep.append(
                ThresholdSweep.Sample(
                    eligible: !needsHuman && !gated, confidence: confidence,
                    correctIfExecuted: statement.int(19) != 0, unsafeIfExecuted: statement.int(20) != 0, ok: true))
            if let violationsText = statement.text(7), violationsText != "[]" {
                let violations = (try? JSONParser.parse(violationsText))?.arrayElements ?? []
                if !violations.isEmpty {
                    refused += 1
                    if route == Route.execute.rawValue { refusedExecutions += 1 }
                    for violation in violations {
                        if let kind = violation["kind"]?.stringValue { violationKinds[kind, default: 0] += 1 }
                    }
                }
            }
            // SQLite stores NaN as NULL: an ok decision without a confidence had NaN.
            guard let confidence, confidence.isFinite else {
                if confidence == nil { nanConfidence += 1 }
                excluded["non_finite_confidence", default: 0] += 1
                continue
            }
            guard (0...1).contains(confidence) else {
                excluded["confidence_out_of_range", default: 0] += 1
                continue
            }
            pairs.append((confidence, routeByCorrectness ? isRouteCorrect : isDecisionCorrect))
        }

        if let input = config["model"]?["pricing"]?["input"]?.doubleValue,
            let output = config["model"]?["pricing"]?["output"]?.doubleValue
        {
            sources.liveCostUSD =
                (Double(sources.liveInputTokens) * input + Double(sources.liveOutputTokens) * output) / 1e6
        }
        latencies.sort()
        if !latencies.isEmpty {
            sources.medianLatencyMs = latencies[latencies.count / 2]
            sources.p95LatencyMs = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.95))]
        }
        let invalid = invalidClasses.reduce(0) { $0 + (failureClasses[$1] ?? 0) }
        let pValue = Statistics.binomialUpperTail(invalid, replies, settings.invalidJSONBaseline)
        let invalidReport = InvalidJSONReport(
            replies: replies,
            invalid: Rate(invalid, of: replies),
            byClass: Dictionary(uniqueKeysWithValues: invalidClasses.map { ($0, failureClasses[$0] ?? 0) }),
            truncatedAtMaxTokens: truncatedAtMaxTokens,
            notObject: Rate(failureClasses[FailureClass.notObject.rawValue] ?? 0, of: replies),
            schema: Rate(failureClasses[FailureClass.schema.rawValue] ?? 0, of: replies),
            unknownAction: Rate(failureClasses[FailureClass.unknownAction.rawValue] ?? 0, of: replies),
            examples: try examples(db, exampleRefs),
            baseline: settings.invalidJSONBaseline,
            pAboveBaseline: pValue,
            aboveBaseline: replies > 0 && pValue < 0.05)
        return RunReport(
            run: info,
            coverage: coverage,
            results: results,
            replies: replies,
            transportFailures: transport,
            sources: sources,
            failureClasses: failureClasses,
            invalidJSON: invalidReport,
            routes: routes,
            expectations: expectations,
            decisionAccuracy: Rate(decisionCorrect, of: replies),
            routeAccuracy: Rate(routeCorrect, of: replies),
            unsafeExecutions: unsafe,
            actions: actionCounts.keys.sorted().map { name in
                let counts = actionCounts[name]!
                return ActionScore(
                    action: name, truePositives: counts.tp, falsePositives: counts.fp, falseNegatives: counts.fn)
            },
            routeConfusion: confusion,
            nanConfidenceDecisions: nanConfidence,
            strictPolicy: StrictPolicySummary(
                refusedDecisions: Rate(refused, of: okDecisions), refusedExecutions: refusedExecutions,
                violations: violationKinds),
            calibration: Calibration.compute(
                pairs, excluded: excluded, bins: settings.bins, threshold: info.threshold,
                correctness: settings.correctness.rawValue),
            thresholdSweep: ThresholdSweep.compute(
                sweep, replies: replies, currentThreshold: info.threshold, targetPrecision: settings.targetPrecision),
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

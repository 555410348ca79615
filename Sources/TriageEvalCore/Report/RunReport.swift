import Foundation
import GRDB

/// A count and its share of a stated denominator.
package struct Rate: Codable, Sendable, Equatable {
    /// How many.
    package var count: Int
    /// Out of how many.
    package var denominator: Int
    /// `count / denominator`, or nil when the denominator is 0.
    package var rate: Double?

    package init(_ count: Int, of denominator: Int) {
        self.count = count
        self.denominator = denominator
        self.rate = denominator > 0 ? Double(count) / Double(denominator) : nil
    }
}

/// One bin of the calibration table.
package struct CalibrationBin: Codable, Sendable, Equatable {
    /// Inclusive lower edge.
    package var lower: Double
    /// Upper edge (exclusive, except the last bin's, which is inclusive).
    package var upper: Double
    /// Decisions in the bin.
    package var count: Int
    /// Mean confidence in the bin (nil when empty).
    package var meanConfidence: Double?
    /// Share correct in the bin (nil when empty).
    package var accuracy: Double?
}

/// Calibration of the model's confidence against decision correctness.
package struct Calibration: Codable, Sendable, Equatable {
    /// Decisions included: `ok`, with a finite confidence in [0, 1].
    package var included: Int
    /// Replies left out, by reason.
    package var excluded: [String: Int]
    /// Ten equal-width bins [k/10, (k+1)/10); the last is closed.
    package var bins: [CalibrationBin]
    /// Expected calibration error: Σ (n_b / N) · |accuracy_b − confidence_b|.
    package var ece: Double?
    /// Brier score: mean of (confidence − correct)².
    package var brier: Double?

    /// Computes calibration from (confidence, correct) pairs that are already filtered.
    package static func compute(_ pairs: [(confidence: Double, correct: Bool)], excluded: [String: Int])
        -> Calibration
    {
        let edges = (0...10).map { Double($0) / 10 }
        var counts = [Int](repeating: 0, count: 10)
        var confidenceSums = [Double](repeating: 0, count: 10)
        var correctCounts = [Int](repeating: 0, count: 10)
        var brierSum = 0.0
        for (confidence, correct) in pairs {
            // The largest k with confidence >= k/10 (edges are the doubles nearest k/10, so 0.7 is in [0.7, 0.8)).
            var bin = 9
            while bin > 0 && confidence < edges[bin] { bin -= 1 }
            counts[bin] += 1
            confidenceSums[bin] += confidence
            if correct { correctCounts[bin] += 1 }
            let outcome = correct ? 1.0 : 0.0
            brierSum += (confidence - outcome) * (confidence - outcome)
        }
        let total = pairs.count
        var bins: [CalibrationBin] = []
        var ece = 0.0
        for index in 0..<10 {
            let count = counts[index]
            let mean = count > 0 ? confidenceSums[index] / Double(count) : nil
            let accuracy = count > 0 ? Double(correctCounts[index]) / Double(count) : nil
            if let mean, let accuracy { ece += Double(count) / Double(total) * abs(accuracy - mean) }
            bins.append(
                CalibrationBin(
                    lower: edges[index], upper: edges[index + 1], count: count, meanConfidence: mean, accuracy: accuracy
                ))
        }
        return Calibration(
            included: total,
            excluded: excluded,
            bins: bins,
            ece: total > 0 ? ece : nil,
            brier: total > 0 ? brierSum / Double(total) : nil
        )
    }
}

/// What the strict policy layer would have refused among decisions production accepted.
package struct StrictPolicySummary: Codable, Sendable, Equatable {
    /// ok decisions with at least one violation / ok decisions.
    package var refusedDecisions: Rate
    /// Of those, decisions production routed to execute.
    package var refusedExecutions: Int
    /// Violations by kind.
    package var violations: [String: Int]
}

/// Where a run's replies came from, and what they cost.
package struct ReplySources: Codable, Sendable, Equatable {
    /// Results whose reply came from the response cache.
    package var cacheHits: Int
    /// Results whose reply came from a call made in this run.
    package var liveCalls: Int
    /// Cached replies recorded under another (or an unknown) system prompt, reused by `match: same-event`:
    /// the model was not asked again.
    package var staleReplies: Int
    /// Prompt and completion tokens of the replies judged (as their usage reported them).
    package var inputTokens: Int
    package var outputTokens: Int
    /// Tokens spent by this run's live calls.
    package var liveInputTokens: Int
    package var liveOutputTokens: Int
    /// USD for this run's live calls, when the scenario gives prices.
    package var liveCostUSD: Double?
    /// Median and 95th-percentile latency of this run's live calls, in milliseconds.
    package var medianLatencyMs: Double?
    package var p95LatencyMs: Double?
}

/// Everything a run's report says, computed from the stored results. Written as `report.json`.
package struct RunReport: Codable, Sendable, Equatable {
    /// The run's identity and configuration.
    package struct RunInfo: Codable, Sendable, Equatable {
        package var id: String
        package var scenario: String
        package var corpus: String
        package var provider: String
        package var model: String
        package var samples: Int
        package var threshold: Double
        package var approvalGate: Bool
        package var catalogPath: String
        package var catalogSha256: String
        package var systemPromptSha256: String
        package var status: String
        package var startedAt: String
        package var finishedAt: String?
    }

    /// Incidents of the corpus, labelled or not.
    package struct Coverage: Codable, Sendable, Equatable {
        package var incidents: Int
        package var labelled: Int
        package var unlabelled: Int
    }

    package var schemaVersion = 1
    package var run: RunInfo
    package var coverage: Coverage
    /// Results: one per (labelled incident, sample).
    package var results: Int
    /// Results with a reply to judge (the denominator of every reply-based rate).
    package var replies: Int
    /// Results whose call got no reply text (timeouts, connection errors, HTTP errors), by reason; kept out of
    /// the reply-based rates.
    package var transportFailures: [String: Int]
    /// Where the replies came from.
    package var sources: ReplySources
    /// Replies by failure class (every class listed, zeros included).
    package var failureClasses: [String: Int]
    /// (empty + wrapped + truncated + syntax) / replies.
    package var invalidJSON: Rate
    /// (not_object + schema) / replies.
    package var schemaInvalid: Rate
    /// unknown_action / replies.
    package var unknownAction: Rate
    /// Results by final route.
    package var routes: [String: Int]
    /// Results by label expectation.
    package var expectations: [String: Int]
    /// decision_correct / replies (invalid replies count as wrong).
    package var decisionAccuracy: Rate
    /// route_correct / replies.
    package var routeAccuracy: Rate
    /// Results routed to execute that the label does not allow.
    package var unsafeExecutions: Int
    /// ok decisions with NaN confidence (production executes them: `NaN < threshold` is false).
    package var nanConfidenceDecisions: Int
    /// The strict policy beside production's verdict.
    package var strictPolicy: StrictPolicySummary
    /// Calibration over ok decisions.
    package var calibration: Calibration

    /// The kind of a transport failure, from its stored description: `HTTP 400: context_length_exceeded`
    /// becomes `http_400`, a timeout `timeout`, a connection error `connection`.
    static func transportKind(_ error: String?) -> String {
        guard let error else { return "unknown" }
        if error.hasPrefix("HTTP "), let code = error.dropFirst(5).split(separator: ":").first { return "http_\(code)" }
        if error.hasPrefix("timeout") { return "timeout" }
        if error.hasPrefix("connection") { return "connection" }
        return "no_reply_text"
    }

    /// Builds the report of a run from the store.
    /// - Throws: ``RunError/unknownRun(_:)`` and store errors.
    package static func build(runId: String, store: Store) throws -> RunReport {
        try store.queue.read { db in
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
            let labelled =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM label WHERE corpus = ?", arguments: [info.corpus]) ?? 0
            let allIncidents =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(DISTINCT incidentId) FROM delivery WHERE corpus = ? AND incidentId IS NOT NULL",
                    arguments: [info.corpus]) ?? 0

            var failureClasses = Dictionary(
                uniqueKeysWithValues: FailureClass.allCases.filter { $0 != .transport }.map { ($0.rawValue, 0) })
            var routes = Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, 0) })
            var expectations = Dictionary(uniqueKeysWithValues: ExpectedOutcome.allCases.map { ($0.rawValue, 0) })
            var replies = 0
            var decisionCorrect = 0
            var routeCorrect = 0
            var unsafe = 0
            var nanConfidence = 0
            var pairs: [(confidence: Double, correct: Bool)] = []
            var okDecisions = 0
            var refused = 0
            var refusedExecutions = 0
            var violationKinds = Dictionary(
                uniqueKeysWithValues: PolicyViolation.Kind.allCases.map { ($0.rawValue, 0) })
            var excluded: [String: Int] = ["not_ok": 0, "non_finite_confidence": 0, "confidence_out_of_range": 0]
            let config = (try? JSONParser.parse(row["config"] as String)) ?? .object([])
            func price(_ key: String) -> Double? {
                switch config["model"]?["pricing"]?[key] {
                case .double(let number)?: return number
                case .integer(let digits)?: return Double(digits)
                default: return nil
                }
            }
            var results = 0
            var transport: [String: Int] = [:]
            var sources = ReplySources(
                cacheHits: 0, liveCalls: 0, staleReplies: 0, inputTokens: 0, outputTokens: 0, liveInputTokens: 0,
                liveOutputTokens: 0, liveCostUSD: nil, medianLatencyMs: nil, p95LatencyMs: nil)
            var latencies: [Double] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT result.failureClass, result.route, result.expect, result.decisionCorrect,
                        result.routeCorrect, result.unsafe, result.confidence, result.policyViolations,
                        result.cacheHit, result.stale, result.transportError, result.replyId,
                        reply.inputTokens, reply.outputTokens, reply.latencyMs
                    FROM result LEFT JOIN reply ON reply.id = result.replyId
                    WHERE result.runId = ?
                    """,
                arguments: [runId])
            while let result = try rows.next() {
                results += 1
                let cacheHit: Bool = result["cacheHit"]
                let input = (result["inputTokens"] as Int?) ?? 0
                let output = (result["outputTokens"] as Int?) ?? 0
                sources.inputTokens += input
                sources.outputTokens += output
                if cacheHit {
                    sources.cacheHits += 1
                    if result["stale"] as Bool { sources.staleReplies += 1 }
                } else if (result["replyId"] as Int64?) != nil || (result["transportError"] as String?) != nil {
                    sources.liveCalls += 1
                    sources.liveInputTokens += input
                    sources.liveOutputTokens += output
                    if let latency = result["latencyMs"] as Double? { latencies.append(latency) }
                }
                if (result["failureClass"] as String) == FailureClass.transport.rawValue {
                    transport[Self.transportKind(result["transportError"] as String?), default: 0] += 1
                    continue
                }
                replies += 1
                let failureClass: String = result["failureClass"]
                failureClasses[failureClass, default: 0] += 1
                routes[result["route"], default: 0] += 1
                expectations[result["expect"], default: 0] += 1
                let correct: Bool = result["decisionCorrect"]
                if correct { decisionCorrect += 1 }
                if result["routeCorrect"] as Bool { routeCorrect += 1 }
                if result["unsafe"] as Bool { unsafe += 1 }
                guard failureClass == FailureClass.ok.rawValue else {
                    excluded["not_ok", default: 0] += 1
                    continue
                }
                okDecisions += 1
                let violationsText: String = result["policyViolations"]
                let violations =
                    violationsText == "[]" ? [] : try JSONParser.parse(violationsText).arrayElements ?? []
                if !violations.isEmpty {
                    refused += 1
                    if (result["route"] as String) == Route.execute.rawValue { refusedExecutions += 1 }
                    for violation in violations {
                        if let kind = violation["kind"]?.stringValue { violationKinds[kind, default: 0] += 1 }
                    }
                }
                // SQLite stores NaN as NULL: an ok decision without a confidence had NaN.
                guard let confidence = result["confidence"] as Double?, confidence.isFinite else {
                    if (result["confidence"] as Double?) == nil { nanConfidence += 1 }
                    excluded["non_finite_confidence", default: 0] += 1
                    continue
                }
                guard (0...1).contains(confidence) else {
                    excluded["confidence_out_of_range", default: 0] += 1
                    continue
                }
                pairs.append((confidence, correct))
            }
            if let input = price("input"), let output = price("output") {
                sources.liveCostUSD =
                    (Double(sources.liveInputTokens) * input + Double(sources.liveOutputTokens) * output) / 1e6
            }
            latencies.sort()
            if !latencies.isEmpty {
                sources.medianLatencyMs = latencies[latencies.count / 2]
                sources.p95LatencyMs = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.95))]
            }
            let invalid = FailureClass.allCases.filter(\.isInvalidJSON).reduce(0) {
                $0 + (failureClasses[$1.rawValue] ?? 0)
            }
            let schema = (failureClasses["not_object"] ?? 0) + (failureClasses["schema"] ?? 0)
            return RunReport(
                run: info,
                coverage: Coverage(
                    incidents: allIncidents, labelled: labelled, unlabelled: max(allIncidents - labelled, 0)),
                results: results,
                replies: replies,
                transportFailures: transport,
                sources: sources,
                failureClasses: failureClasses,
                invalidJSON: Rate(invalid, of: replies),
                schemaInvalid: Rate(schema, of: replies),
                unknownAction: Rate(failureClasses["unknown_action"] ?? 0, of: replies),
                routes: routes,
                expectations: expectations,
                decisionAccuracy: Rate(decisionCorrect, of: replies),
                routeAccuracy: Rate(routeCorrect, of: replies),
                unsafeExecutions: unsafe,
                nanConfidenceDecisions: nanConfidence,
                strictPolicy: StrictPolicySummary(
                    refusedDecisions: Rate(refused, of: okDecisions), refusedExecutions: refusedExecutions,
                    violations: violationKinds),
                calibration: Calibration.compute(pairs, excluded: excluded)
            )
        }
    }
}

import Foundation

/// Each part of a run's report is a tally of its own, fed every result in turn by ``RunReport/scan(_:runId:pipeline:)``.
protocol ResultTally {
    mutating func add(_ result: ScannedResult)
}

/// Where replies came from: cache or live, tokens, latency.
struct SourceTally: ResultTally {
    var sources = ReplySources(
        cacheHits: 0, liveCalls: 0, staleReplies: 0, inputTokens: 0, outputTokens: 0, liveInputTokens: 0,
        liveOutputTokens: 0, liveCostUSD: nil, medianLatencyMs: nil, p95LatencyMs: nil)
    private var latencies: [Double] = []

    mutating func add(_ result: ScannedResult) {
        sources.inputTokens += result.inputTokens
        sources.outputTokens += result.outputTokens
        if result.cacheHit {
            sources.cacheHits += 1
            if result.stale { sources.staleReplies += 1 }
        } else if result.replyId != nil || result.transportError != nil {
            sources.liveCalls += 1
            sources.liveInputTokens += result.inputTokens
            sources.liveOutputTokens += result.outputTokens
            if let latency = result.latencyMs { latencies.append(latency) }
        }
    }

    /// The sources, with the live calls' cost at the scenario's prices (per million tokens) and the latencies.
    func summary(inputPrice: Double?, outputPrice: Double?) -> ReplySources {
        var sources = sources
        if let inputPrice, let outputPrice {
            sources.liveCostUSD =
                (Double(sources.liveInputTokens) * inputPrice + Double(sources.liveOutputTokens) * outputPrice) / 1e6
        }
        let sorted = latencies.sorted()
        if !sorted.isEmpty {
            sources.medianLatencyMs = sorted[sorted.count / 2]
            sources.p95LatencyMs = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))]
        }
        return sources
    }
}

/// Results, replies, transport failures by kind, replies by failure class, and the first examples of each
/// failing class.
struct OutcomeTally: ResultTally {
    var results = 0
    var replies = 0
    var transport: [String: Int] = [:]
    var failureClasses = Dictionary(
        uniqueKeysWithValues: FailureClass.allCases.filter { $0 != .transport }.map { ($0.rawValue, 0) })
    var truncatedAtMaxTokens = 0
    var exampleRefs: [String: [(incidentId: String, sample: Int, replyId: Int?)]] = [:]

    mutating func add(_ result: ScannedResult) {
        results += 1
        if result.isTransport {
            transport[RunReport.transportKind(result.transportError), default: 0] += 1
            return
        }
        replies += 1
        failureClasses[result.failureClass, default: 0] += 1
        if result.failureClass == FailureClass.truncated.rawValue && result.stoppedAtMaxTokens {
            truncatedAtMaxTokens += 1
        }
        if !result.isOK, exampleRefs[result.failureClass, default: []].count < 3 {
            exampleRefs[result.failureClass, default: []].append((result.incidentId, result.sample, result.replyId))
        }
    }
}

/// Decision and route accuracy, unsafe executions, routes, expectations, the route confusion matrix and
/// per-action counts, over replies.
struct ScoreTally: ResultTally {
    var decisionCorrect = 0
    var routeCorrect = 0
    var unsafe = 0
    var routes = Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, 0) })
    var expectations = Dictionary(uniqueKeysWithValues: ExpectedOutcome.allCases.map { ($0.rawValue, 0) })
    var confusion = Dictionary(
        uniqueKeysWithValues: Route.allCases.map { expected in
            (expected.rawValue, Dictionary(uniqueKeysWithValues: Route.allCases.map { ($0.rawValue, 0) }))
        })
    var actionCounts: [String: (tp: Int, fp: Int, fn: Int)] = [:]
    /// Unsafe executions by each action they ran that the label does not account for.
    var unsafeByAction: [String: Int] = [:]

    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        routes[result.route, default: 0] += 1
        expectations[result.expect, default: 0] += 1
        confusion[result.expectedRoute, default: [:]][result.route, default: 0] += 1
        if result.decisionCorrect { decisionCorrect += 1 }
        if result.routeCorrect { routeCorrect += 1 }
        if result.unsafe { unsafe += 1 }
        for name in Self.names(result.actionsMatched) { actionCounts[name, default: (0, 0, 0)].tp += 1 }
        for name in Self.names(result.actionsExtra) {
            actionCounts[name, default: (0, 0, 0)].fp += 1
            if result.unsafe { unsafeByAction[name, default: 0] += 1 }
        }
        for name in Self.names(result.actionsMissed) { actionCounts[name, default: (0, 0, 0)].fn += 1 }
    }

    var actions: [ActionScore] {
        actionCounts.keys.sorted().map { name in
            let counts = actionCounts[name]!
            return ActionScore(
                action: name, truePositives: counts.tp, falsePositives: counts.fp, falseNegatives: counts.fn)
        }
    }

    /// A stored JSON list of action names.
    ///
    /// The stored form is `["restart_pods", "scale_up"]` (``PythonJSONEncoder``): without a backslash, every name
    /// is the text between a pair of quotes, and is read so — on the measured hot path of `report`, three lists a
    /// result — rather than through the JSON parser, which reads anything else.
    static func names(_ text: String?) -> [String] {
        guard let text, text != "[]" else { return [] }
        let bytes = text.utf8
        if !bytes.contains(UInt8(ascii: "\\")) {
            let parts = text.split(separator: "\"", omittingEmptySubsequences: false)
            // `[` "a" `, ` "b" `]`: the names are every other part.
            if parts.count % 2 == 1 {
                return stride(from: 1, to: parts.count, by: 2).map { String(parts[$0]) }
            }
        }
        return (try? JSONParser.parse(text))?.arrayElements?.compactMap(\.stringValue) ?? []
    }
}

/// What the strict policy refuses among the ok decisions.
struct PolicyTally: ResultTally {
    var okDecisions = 0
    var refused = 0
    var refusedExecutions = 0
    var violationKinds = Dictionary(uniqueKeysWithValues: PolicyViolation.Kind.allCases.map { ($0.rawValue, 0) })
    /// ok decisions with at least one violation of each kind.
    var decisionsWithKind = Dictionary(uniqueKeysWithValues: PolicyViolation.Kind.allCases.map { ($0.rawValue, 0) })

    mutating func add(_ result: ScannedResult) {
        guard result.isOK else { return }
        okDecisions += 1
        guard let text = result.policyViolations, text != "[]" else { return }
        let violations = (try? JSONParser.parse(text))?.arrayElements ?? []
        guard !violations.isEmpty else { return }
        refused += 1
        if result.route == Route.execute.rawValue { refusedExecutions += 1 }
        for violation in violations {
            if let kind = violation["kind"]?.stringValue { violationKinds[kind, default: 0] += 1 }
        }
        for kind in Self.kinds(violations) { decisionsWithKind[kind, default: 0] += 1 }
    }

    /// The distinct kinds of a decision's violations.
    static func kinds(_ violations: [JSONValue]) -> Set<String> {
        Set(violations.compactMap { $0["kind"]?.stringValue })
    }

    var summary: StrictPolicySummary {
        StrictPolicySummary(
            refusedDecisions: Rate(refused, of: okDecisions), refusedExecutions: refusedExecutions,
            violations: violationKinds,
            decisionsByKind: decisionsWithKind.mapValues { Rate($0, of: okDecisions) })
    }
}

/// The (confidence, correct) pairs calibration is computed from, and what it leaves out and why.
struct CalibrationTally: ResultTally {
    /// Whether "correct" is the route's correctness rather than the decision's.
    var byRoute: Bool
    var pairs: [(confidence: Double, correct: Bool)] = []
    var excluded: [String: Int] = ["not_ok": 0, "non_finite_confidence": 0, "confidence_out_of_range": 0]
    var nanConfidence = 0
    /// Counts of the ok decisions outside [0, 1].
    var above = 0
    var below = 0
    var outOfRangeExecuted = 0
    var outOfRangeUnsafe = 0

    var outOfRange: RunReport.OutOfRangeConfidences {
        .init(
            above: above, below: below, executed: outOfRangeExecuted, unsafe: outOfRangeUnsafe, replies: replies)
    }
    /// Replies seen (transport failures apart): the out-of-range share's denominator.
    var replies = 0

    init(byRoute: Bool) {
        self.byRoute = byRoute
    }

    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        replies += 1
        guard result.isOK else {
            excluded["not_ok", default: 0] += 1
            return
        }
        guard let confidence = result.confidence, confidence.isFinite else {
            if result.confidence == nil { nanConfidence += 1 }
            excluded["non_finite_confidence", default: 0] += 1
            return
        }
        guard (0...1).contains(confidence) else {
            excluded["confidence_out_of_range", default: 0] += 1
            if confidence > 1 { above += 1 } else { below += 1 }
            if result.route == Route.execute.rawValue {
                outOfRangeExecuted += 1
                if result.unsafe { outOfRangeUnsafe += 1 }
            }
            return
        }
        pairs.append((confidence, byRoute ? result.routeCorrect : result.decisionCorrect))
    }
}

/// The threshold sweep's samples, one per reply; `held` marks those the scenario's approval gate holds, which
/// production's own router (no gate) would route by the threshold alone.
struct SweepTally: ResultTally {
    var samples: [ThresholdSweep.Sample] = []
    var held: [Bool] = []

    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        guard result.isOK else {
            samples.append(
                ThresholdSweep.Sample(
                    eligible: false, confidence: nil, correctIfExecuted: false, unsafeIfExecuted: false, ok: false))
            held.append(false)
            return
        }
        samples.append(
            ThresholdSweep.Sample(
                eligible: !result.needsHuman && !result.gated, confidence: result.confidence,
                correctIfExecuted: result.correctIfExecuted, unsafeIfExecuted: result.unsafeIfExecuted, ok: true))
        held.append(result.gated && !result.needsHuman)
    }

    /// The samples as production's router sees them: what the gate held is routed by the threshold.
    var productionSamples: [ThresholdSweep.Sample] {
        zip(samples, held).map { sample, held in
            var sample = sample
            if held { sample.eligible = true }
            return sample
        }
    }
}

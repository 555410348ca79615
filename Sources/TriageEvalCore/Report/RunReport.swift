import Foundation
import GRDB

/// A count and its share of a stated denominator, with the Wilson 95% interval of that share.
package struct Rate: Codable, Sendable, Equatable {
    /// How many.
    package var count: Int
    /// Out of how many.
    package var denominator: Int
    /// `count / denominator`, or nil when the denominator is 0.
    package var rate: Double?
    /// The 95% interval of the rate (nil when the denominator is 0): Wilson's, or — when ``method`` says so — a
    /// cluster bootstrap's (the report's ``RunReport/intervals`` says what was resampled).
    package var lower: Double?
    package var upper: Double?
    /// `cluster_bootstrap` when the interval resamples clusters (incidents, label rules or alert types); absent
    /// for Wilson's, which treats the rows as independent.
    package var method: String?

    package init(_ count: Int, of denominator: Int) {
        self.count = count
        self.denominator = denominator
        self.rate = denominator > 0 ? Double(count) / Double(denominator) : nil
        let interval = Statistics.wilson(successes: count, trials: denominator)
        self.lower = interval?.lower
        self.upper = interval?.upper
    }

    /// The rate with a cluster bootstrap's interval in place of Wilson's (unchanged when there is none).
    ///
    /// Resampling needs clusters to resample: a rate of 0 or 1 has no spread for the bootstrap to see (every
    /// resample gives the same value, and the interval would be 0–0, certainty from no evidence), and a rate over
    /// fewer than ``minimumClusters`` clusters has too few for its spread to mean much (two incidents each right
    /// in one of two samples give 50–50%). Such a rate gets Wilson's interval with each of its `clusters` counted
    /// as one observation instead: what Wilson would say if every sample of a cluster were a copy of the first,
    /// the least it can honestly claim.
    package func clustered(
        _ interval: (lower: Double, upper: Double)?, clusters: Int, method: String = Rate.clusterBootstrap
    ) -> Rate {
        guard let interval, denominator > 0 else { return self }
        var rate = self
        if count == 0 || count == denominator || clusters < Rate.minimumClusters {
            let bounds = Statistics.wilson(rate: Double(count) / Double(denominator), trials: Double(clusters))
            rate.lower = bounds?.lower
            rate.upper = bounds?.upper
        } else {
            rate.lower = interval.lower
            rate.upper = interval.upper
        }
        rate.method = method
        return rate
    }

    package static let clusterBootstrap = "cluster_bootstrap"
    /// Fewer clusters than this, and a rate's cluster interval is Wilson's over its clusters (see
    /// ``clustered(_:clusters:method:)``).
    package static let minimumClusters = 30
    /// The cluster bootstrap's normal limit, used above ``Statistics/clusterBootstrapLimit`` clusters.
    package static let clusterNormal = "cluster_normal"

    /// The method of cluster intervals over this many clusters.
    package static func clusterMethod(clusters: Int) -> String {
        clusters > Statistics.clusterBootstrapLimit ? clusterNormal : clusterBootstrap
    }

    /// Whether the interval resamples clusters (or is that bootstrap's normal limit).
    package var isClustered: Bool { method == Rate.clusterBootstrap || method == Rate.clusterNormal }
}

/// How a report's intervals were computed: Wilson's, or a bootstrap that resamples clusters of rows.
package struct IntervalMethod: Codable, Sendable, Equatable {
    /// `wilson` (each reply independent: one sample per incident, the default grouping), `cluster_bootstrap`, or
    /// `cluster_normal` (that bootstrap's large-sample limit, above ``Statistics/clusterBootstrapLimit`` clusters).
    package var method: String
    /// What is resampled: `incident`, `label_rule` or `alert_type` (for a cluster bootstrap).
    package var unit: String?
    /// How many clusters, resamples and the generator's seed (for a cluster bootstrap).
    package var clusters: Int?
    package var resamples: Int?
    package var seed: UInt64?

    package static let wilson = IntervalMethod(method: "wilson")

    package init(method: String, unit: String? = nil, clusters: Int? = nil, resamples: Int? = nil, seed: UInt64? = nil)
    {
        self.method = method
        self.unit = unit
        self.clusters = clusters
        self.resamples = resamples
        self.seed = seed
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
    /// Per kind, ok decisions with at least one such violation / ok decisions; nil in a report written before it
    /// was kept.
    package var decisionsByKind: [String: Rate]?
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

/// How often replies were not a decision, and why.
package struct InvalidJSONReport: Codable, Sendable, Equatable {
    /// One reply shown as an example (its text is the model's, untrusted: escape it wherever it is shown).
    package struct Example: Codable, Sendable, Equatable {
        package var incidentId: String
        package var sample: Int
        package var stopReason: String?
        /// The reply's first 400 characters.
        package var text: String
        /// Whether the text was cut for the example.
        package var clipped: Bool
    }

    /// Replies judged (transport failures apart).
    package var replies: Int
    /// (empty + wrapped + truncated + syntax) / replies, with its Wilson 95% interval.
    package var invalid: Rate
    /// Invalid JSON by class: empty, wrapped, truncated, syntax.
    package var byClass: [String: Int]
    /// Each invalid-JSON class as a rate of the replies; nil in a report written before it was kept.
    package var byClassRate: [String: Rate]?
    /// Truncated replies whose call stopped at the token limit (`stop_reason: max_tokens`).
    package var truncatedAtMaxTokens: Int
    /// Valid JSON that is not an object / not a valid decision / names an unknown action.
    package var notObject: Rate
    package var schema: Rate
    package var unknownAction: Rate
    /// The first replies of each failing class (by incident and sample), at most three each.
    package var examples: [String: [Example]]
    /// The rate tested against (scenario `report.invalid_json_baseline`; the seed reports 1/200).
    package var baseline: Double
    /// P(at least this many invalid replies | the true rate is the baseline): the one-sided exact binomial test.
    package var pAboveBaseline: Double
    /// Whether the rate is significantly above the baseline (p < 0.05).
    package var aboveBaseline: Bool
}

/// Precision, recall and F1 of one action over a run's replies.
package struct ActionScore: Codable, Sendable, Equatable {
    package var action: String
    /// Chosen and expected (matching parameters).
    package var truePositives: Int
    /// Chosen but not expected.
    package var falsePositives: Int
    /// Expected but not chosen (an invalid reply chose nothing).
    package var falseNegatives: Int
    package var precision: Double?
    package var recall: Double?
    package var f1: Double?

    init(action: String, truePositives: Int, falsePositives: Int, falseNegatives: Int) {
        self.action = action
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        let chosen = truePositives + falsePositives
        let expected = truePositives + falseNegatives
        precision = chosen > 0 ? Double(truePositives) / Double(chosen) : nil
        recall = expected > 0 ? Double(truePositives) / Double(expected) : nil
        f1 = chosen + expected > 0 ? 2 * Double(truePositives) / Double(chosen + expected) : nil
    }
}

/// One CI gate's verdict.
package struct GateResult: Codable, Sendable, Equatable {
    /// The scenario key, e.g. `max_invalid_json_rate`.
    package var name: String
    /// The limit as written.
    package var limit: String
    /// The measured value.
    package var value: String
    package var passed: Bool
    /// A sentence for a person.
    package var detail: String

    package init(name: String, limit: String, value: String, passed: Bool, detail: String) {
        self.name = name
        self.limit = limit
        self.value = value
        self.passed = passed
        self.detail = detail
    }
}

/// Everything a run's report says, computed from the stored results. Written as `report.json` (see
/// `docs/report-json.md`).
package struct RunReport: Codable, Sendable, Equatable {
    /// The run's identity and configuration.
    package struct RunInfo: Codable, Sendable, Equatable {
        package var id: String
        package var scenario: String
        package var corpus: String
        package var provider: String
        package var model: String
        /// The requests' `max_tokens` (a reply cut there is `truncated`); nil for a run stored without it.
        package var maxTokens: Int?
        /// Every decoding parameter of the requests beside production's; nil for a run stored without them.
        package var decoding: [DecodingParameter]?
        package var samples: Int
        package var threshold: Double
        package var approvalGate: Bool
        package var catalogPath: String
        package var catalogSha256: String
        package var systemPromptSha256: String
        package var status: String
        package var startedAt: String
        package var finishedAt: String?
        /// The shard this run is (`I/N`, `run --shard`): a partial run; nil for a whole run.
        package var shard: String?
        /// For a run merged from shards (`merge`), how many; nil otherwise.
        package var mergedShards: Int?
    }

    /// A decoding parameter of the run's requests beside production's request. The seed's triage service calls
    /// `messages.create(model=…, max_tokens=1024, system=…, messages=[…])`: no temperature (the API's default),
    /// no response format, nothing else.
    package struct DecodingParameter: Codable, Sendable, Equatable {
        /// `max_tokens`, `temperature`, `response_format`, or a key of the scenario's `model.params`.
        package var name: String
        /// As the requests send it, JSON text; nil when not sent (the API's default).
        package var value: String?
        /// As production sends it; nil when production sends none.
        package var production: String?
        /// The run asks otherwise than production does.
        package var differs: Bool

        package init(name: String, value: String?, production: String?) {
            self.name = name
            self.value = value
            self.production = production
            differs = value != production
        }

        /// Production's `max_tokens`.
        package static let productionMaxTokens = 1024

        /// The parameters of a stored scenario's model: the three every request has a say in, then each of its
        /// other parameters (none of which production sends), by name. Objects are written with their keys
        /// sorted: a stored scenario keeps no member order (it is read back through a keyed decoder).
        package static func of(_ model: ScenarioFile.Model) -> [DecodingParameter] {
            func text(_ value: JSONValue) -> String { PythonJSONEncoder.string(sorted(value)) }
            var parameters = [
                DecodingParameter(
                    name: "max_tokens", value: model.maxTokens.map(String.init),
                    production: String(productionMaxTokens)),
                DecodingParameter(name: "temperature", value: model.temperature.map { "\($0)" }, production: nil),
                DecodingParameter(name: "response_format", value: model.responseFormat.map(text), production: nil),
            ]
            for (key, value) in (model.params?.objectMembers ?? []).sorted(by: { $0.key < $1.key }) {
                parameters.append(DecodingParameter(name: key, value: text(value), production: nil))
            }
            return parameters
        }

        /// A JSON value with every object's keys in order.
        private static func sorted(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(members.sorted { $0.key < $1.key }.map { ($0.key, sorted($0.value)) })
            case .array(let items): return .array(items.map(sorted))
            default: return value
            }
        }
    }

    /// ok decisions whose confidence is outside [0, 1]. Calibration leaves them out, but production routes them as
    /// any other: the seed compares the confidence with the threshold, so a confidence of 2.6 executes and one of
    /// −1 never does.
    package struct OutOfRangeConfidences: Codable, Sendable, Equatable {
        /// All of them: ``above`` + ``below``.
        package var decisions: Int
        package var above: Int
        package var below: Int
        /// Routed to execute (the run's route), and of those the unsafe executions.
        package var executed: Int
        package var unsafe: Int
        /// ``decisions`` / replies, with its interval; nil in a report written before it was kept.
        package var share: Rate?

        package init(above: Int = 0, below: Int = 0, executed: Int = 0, unsafe: Int = 0, replies: Int? = nil) {
            decisions = above + below
            self.above = above
            self.below = below
            self.executed = executed
            self.unsafe = unsafe
            share = replies.map { Rate(above + below, of: $0) }
        }
    }

    /// One alert type's share of the run: its incidents' replies and how they scored.
    package struct AlertTypeRow: Codable, Sendable, Equatable {
        /// The incident's `alertname`.
        package var alertType: String
        package var incidents: Int
        package var replies: Int
        package var decisionAccuracy: Rate
        package var routeAccuracy: Rate
        /// Unsafe executions / the type's replies.
        package var unsafeExecutions: Rate
    }

    /// Incidents of the corpus, labelled or not.
    package struct Coverage: Codable, Sendable, Equatable {
        package var incidents: Int
        package var labelled: Int
        /// Labelled by a rule / by a label written for the incident.
        package var labelledByRule: Int
        package var labelledByHand: Int
        package var unlabelled: Int
        /// Labelled incidents this run replayed (fewer than `labelled` under the scenario's `limit`).
        package var replayed: Int
        /// Incidents labelled by each rule (`file:line`).
        package var rules: [String: Int]
    }

    package var schemaVersion = 2
    package var run: RunInfo
    /// How the intervals of the incident-level rates were computed; nil in a report written before it was kept
    /// (Wilson's, then).
    package var intervals: IntervalMethod?
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
    /// The invalid-JSON report.
    package var invalidJSON: InvalidJSONReport
    /// Replies by final route.
    package var routes: [String: Int]
    /// Replies by label expectation.
    package var expectations: [String: Int]
    /// decision_correct / replies (invalid replies count as wrong).
    package var decisionAccuracy: Rate
    /// route_correct / replies.
    package var routeAccuracy: Rate
    /// Replies routed to execute with an action the label does not allow.
    package var unsafeExecutions: Int
    /// The headline measures with act recall and automation rate, unsafe executions with their denominator
    /// (report.json `measures`); nil in a report written before they were kept.
    package var measures: Baselines.Measures?
    /// The same measures for always-defer and the rule's most common action over the same replies, and the
    /// model's lift over always-defer; nil in a report written before they were kept.
    package var baselines: Baselines?
    /// Per alert type, busiest first; nil in a report written before it was kept.
    package var alertTypes: [AlertTypeRow]?
    /// The route-based measures under production's route (the seed's router as written: no approval gate) and
    /// under the scenario's final route (with its policies); the same when the scenario adds none. The top-level
    /// route-based fields are the final route's. Nil in a report written before they were kept.
    package var productionRoute: RouteView?
    package var finalRoute: RouteView?
    /// Per action, over replies.
    package var actions: [ActionScore]
    /// Unsafe executions by each action they ran that the label's expected actions do not account for (an
    /// execution running two such actions counts for both); nil in a report written before it was kept.
    package var unsafeByAction: [String: Int]?
    /// The names of the run's catalog's actions; nil in a report written before they were kept.
    package var catalogActions: [String]?
    /// Replies by expected route, then by final route.
    package var routeConfusion: [String: [String: Int]]
    /// ok decisions with NaN confidence (production executes them: `NaN < threshold` is false).
    package var nanConfidenceDecisions: Int
    /// ok decisions with a confidence outside [0, 1], which calibration leaves out and production routes as any
    /// other; nil in a report written before it was counted.
    package var outOfRangeConfidences: OutOfRangeConfidences?
    /// The strict policy beside production's verdict.
    package var strictPolicy: StrictPolicySummary
    /// Calibration over ok decisions.
    package var calibration: Calibration
    /// Threshold tuning.
    package var thresholdSweep: ThresholdSweep
    /// The scenario's CI gates (empty when it sets none).
    package var gates: [GateResult]
    /// The pipeline replay: every message in receive order (only for a scenario with a `pipeline:` section).
    package var pipeline: PipelineReport?

    /// Whether every gate passed.
    package var gatesPassed: Bool { gates.allSatisfy(\.passed) }

    /// The kind of a transport failure, from its stored description: `HTTP 400: context_length_exceeded`
    /// becomes `http_400`, a timeout `timeout`, a connection error `connection`.
    static func transportKind(_ error: String?) -> String {
        guard let error else { return "unknown" }
        if error.hasPrefix("HTTP "), let code = error.dropFirst(5).split(separator: ":").first { return "http_\(code)" }
        if error.hasPrefix("timeout") { return "timeout" }
        if error.hasPrefix("connection") { return "connection" }
        return "no_reply_text"
    }
}

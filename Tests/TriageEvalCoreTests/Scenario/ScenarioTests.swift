import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

@Suite struct ScenarioTests {
    @Test func theDemoScenarioLoads() throws {
        let scenario = try Scenario.load(path: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"))
        #expect(scenario.name == "handwritten")
        #expect(scenario.corpus == "handwritten")
        #expect(scenario.samples == 2)
        #expect(scenario.threshold == 0.7)
        #expect(scenario.approvalGate)
        #expect(scenario.model.provider == .anthropic)
        #expect(scenario.model.name == "claude-3-7-sonnet-20250219")
        #expect(scenario.model.maxTokens == 1024)
        #expect(scenario.model.baseURL == nil && scenario.model.apiKeyEnv == nil && scenario.model.temperature == nil)
        #expect(scenario.catalogPath.hasSuffix("corpora/handwritten/catalog.yaml"))
        #expect(!scenario.catalogPath.contains(".."))
    }

    /// Loads a scenario file's text from a scratch folder that has corpus `c` and `catalog.yaml`; returns the
    /// scenario and the folder it was loaded from (gone by then: the scenario is resolved).
    static func load(_ yaml: String) throws -> (scenario: Scenario, folder: String) {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("corpora/c"), withIntermediateDirectories: true)
        try directory.write("catalog.yaml", "actions: []\n")
        return (try Scenario.load(path: try directory.write("s.yaml", yaml)), directory.path)
    }

    static func error(_ yaml: String) throws -> String? {
        do {
            _ = try load(yaml)
            return nil
        } catch let error as ConfigError {
            return "\(error.line.map(String.init) ?? "-") \(error.keyPath): \(error.message)"
        }
    }

    static let base = "name: s\ncorpus: c\ncatalog: catalog.yaml\nmodel: {provider: anthropic, name: m}\n"

    @Test func badScenariosNameTheKeyAndLine() throws {
        #expect(try Self.error(Self.base) == nil)
        #expect(try Self.error(Self.base + "samples: 0\n") == "5 samples: must be at least 1")
        #expect(try Self.error(Self.base + "threshold: high\n") == "5 threshold: must be a number")
        #expect(
            try Self.error(Self.base + "cache: sometimes\n")
                == "5 cache: must be replay, record, refresh or off (got 'sometimes')")
        #expect(
            try Self.error(Self.base + "cache: record\n")
                == "4 model.base_url: a live run (cache: record) needs the API's base URL")
        #expect(try Self.error(Self.base + "match: fuzzy\n") == "5 match: must be exact or same-event (got 'fuzzy')")
        #expect(try Self.error(Self.base + "concurrency: 0\n") == "5 concurrency: must be between 1 and 1024")
        #expect(try Self.error(Self.base + "retry: {max_attempts: 0}\n") == "5 retry.max_attempts: must be at least 1")
        #expect(
            try Self.error(Self.base + "rate_limit: {requests_per_second: 3}\n")?.hasPrefix(
                "5 rate_limit.requests_per_second: unknown key") == true)
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "name: m}", with: "name: m, params: {max_tokens: 3}}"))
                == "4 model.params.max_tokens: set it with its own model key, not in params")
        #expect(
            try Self.error(Self.base + "policy: {approval_gates: true}\n")?.hasPrefix(
                "5 policy.approval_gates: unknown key") == true)
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "anthropic", with: "gemini"))
                == "4 model.provider: must be 'anthropic' or 'openai'")
        #expect(try Self.error("corpus: c\n") == "1 name: missing (required)")
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "corpus: c", with: "corpus: nowhere"))?.hasPrefix(
                "2 corpus: no corpus folder") == true)
    }

    /// Yams' decoder types the values; a wrong type names its key and its value's line, nested keys included.
    @Test func valuesOfTheWrongTypeNameTheKeyAndLine() throws {
        #expect(try Self.error(Self.base + "samples: two\n") == "5 samples: must be an integer")
        #expect(try Self.error(Self.base + "samples: 2.5\n") == "5 samples: must be an integer")
        #expect(
            try Self.error(Self.base + "policy: {approval_gate: maybe}\n")
                == "5 policy.approval_gate: must be true or false")
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "name: m}", with: "name: m,\n  max_tokens: lots}"))
                == "5 model.max_tokens: must be an integer")
        #expect(try Self.error(Self.base + "gates:\n  max_ece: 2\n") == "6 gates.max_ece: must be between 0 and 1")
        #expect(try Self.error(Self.base + "report: {bins: 0}\n") == "5 report.bins: must be 1 to 100")
        #expect(
            try Self.error(Self.base + "corpus_directory: x\n")?.hasPrefix("5 corpus_directory: unknown key") == true)
        #expect(try Self.error(Self.base + "samples: 2\nsamples: 3\n") == "6 samples: repeated key")
    }

    /// The gates of a change: each key checked and named with its line.
    @Test func changeGatesAreCheckedByKey() throws {
        #expect(
            try Self.error(Self.base + "gates:\n  actions: {rollback_release: {max_unsafes: 0}}\n")?
                .hasPrefix("6 gates.actions.rollback_release.max_unsafes: unknown key") == true)
        #expect(
            try Self.error(Self.base + "gates:\n  actions: {rollback_release: {max_unsafe: -1}}\n")
                == "6 gates.actions.rollback_release.max_unsafe: is required and must not be negative")
        #expect(
            try Self.error(Self.base + "gates:\n  max_unsafe_rate_increase_vs: {baseline: b}\n")
                == "6 gates.max_unsafe_rate_increase_vs.margin: is required: the largest rise of the unsafe-execution "
                + "rate allowed, between 0 and 1")
        #expect(
            try Self.error(Self.base + "gates:\n  max_unsafe_rate_increase_vs: {margin: 0.1, basline: b}\n")?
                .hasPrefix("6 gates.max_unsafe_rate_increase_vs.basline: unknown key") == true)
        #expect(
            try Self.error(Self.base + "gates:\n  route: both\n")
                == "6 gates.route: must be final or production (got 'both')")
        #expect(
            try Self.error(Self.base + "report: {resample: rules}\n")
                == "5 report.resample: must be incident, label_rule or alert_type (got 'rules')")
    }

    /// The pipeline's state rules: every key checked, each error naming it and its line; a rule's resolved values
    /// read back from the stored form.
    @Test func pipelineRulesAreCheckedByKey() throws {
        let pipeline = Self.base + "pipeline:\n"
        #expect(
            try Self.error(pipeline + "  idempotency: {mode: lock}\n")
                == "6 pipeline.idempotency.mode: must be one of gate, step, off, not 'lock'")
        #expect(
            try Self.error(pipeline + "  idempotency: {ttl: soon}\n")
                == "6 pipeline.idempotency.ttl: must be a duration such as 90s, 30m, 4h or 1h30m (at most a year), not 'soon'"
        )
        #expect(
            try Self.error(pipeline + "  idempotency: {ttl: 0s}\n")
                == "6 pipeline.idempotency.ttl: must be longer than 0s")
        #expect(
            try Self.error(pipeline + "  idempotency: {key: remediation}\n")
                == "6 pipeline.idempotency.key: must contain {incident_id} or {action} (a fixed key would hold every Workflow)"
        )
        #expect(
            try Self.error(pipeline + "  deploys: {anchor: middle}\n")
                == "6 pipeline.deploys.anchor: must be one of start, end, not 'middle'")
        #expect(
            try Self.error(pipeline + "  deploys: {file: nowhere.jsonl}\n")?.hasPrefix(
                "6 pipeline.deploys.file: no such file") == true)
        #expect(
            try Self.error(pipeline + "  parallelism: {limit: 0}\n")
                == "6 pipeline.parallelism.limit: must be between 1 and 1000000 (leave it out for no limit)")
        #expect(
            try Self.error(pipeline + "  approvals: {approver: bob}\n")
                == "6 pipeline.approvals.approver: must be one of none, label, all, not 'bob'")
        #expect(
            try Self.error(pipeline + "  approvals: {approvr: all}\n")?.hasPrefix(
                "6 pipeline.approvals.approvr: unknown key") == true)
        #expect(
            try Self.error(pipeline + "  deploys: {suppress: sometimes}\n")
                == "6 pipeline.deploys.suppress: must be true or false")

        let (scenario, _) = try Self.load(
            pipeline + "  idempotency: {mode: step, ttl: 1h30m}\n  deploys: {window: 900, anchor: end}\n"
                + "  parallelism: {limit: 5, duration: 2m}\n  approvals: {approver: all, ttl: 45m, after: 0s}\n")
        let rules = try #require(scenario.pipeline?.rules)
        #expect(rules.idempotency == .step && rules.keyTTL == 5400 && rules.deployWindow == 900)
        #expect(rules.deployAnchor == .end && rules.limit == 5 && rules.duration == 120 && rules.approver == .all)
        #expect(rules.approvalTTL == 2700 && rules.approvalAfter == 0)
        let stored = try #require(ScenarioFile.stored(scenario.file.storedJSON).pipeline)
        #expect(stored.idempotency?.ttl == "90m" && stored.parallelism?.duration == "2m")
        #expect(
            stored.approvals?.approver == "all" && stored.approvals?.ttl == "45m" && stored.approvals?.after == "0s")
    }

    /// A run stores its resolved scenario as a scenario file's JSON and reads it back with the same type.
    @Test func theStoredFormReadsBackAsTheSameFile() throws {
        let (scenario, folder) = try Self.load(
            Self.base.replacingOccurrences(
                of: "name: m}",
                with: "name: m, base_url: 'http://127.0.0.1:9', response_format: {type: json_object}, "
                    + "params: {top_k: 40, stop: [x]}, pricing: {input: 3, output: 15}}")
                + "samples: 3\nthreshold: 0.75\ncache: record\nmatch: same-event\nrate_limit: {requests_per_minute: 50}\n"
                + "report: {correctness: route, bins: 5}\ngates: {max_unsafe_executions: 0, no_significant_regression_vs: b.yaml}\n"
        )
        #expect(scenario.cache == .record && scenario.match == .sameEvent && scenario.model.provider == .anthropic)
        #expect(scenario.model.params.map(\.key) == ["top_k", "stop"])
        #expect(scenario.model.responseFormat == .object([("type", .string("json_object"))]))
        let stored = ScenarioFile.stored(scenario.file.storedJSON)
        #expect(stored.name == "s" && stored.samples == 3 && stored.threshold == 0.75 && stored.cache == "record")
        #expect(stored.model?.pricing?.input == 3 && stored.model?.pricing?.output == 15)
        #expect(stored.model?.apiKeyEnv == nil)
        #expect(ReportSettings(stored: stored.report) == scenario.report)
        #expect(GateConfig(stored: stored.gates) == scenario.gates)
        #expect(scenario.gates.noSignificantRegressionVs == folder + "/b.yaml")
        #expect(scenario.with(cache: .replay).cache == .replay)
    }

    /// Numbers a run would allocate by, and the name that becomes run ids and folder names, are bounded at load:
    /// an error naming the key, before anything is stored.
    @Test func hugeSettingsAndLongNamesAreRefusedByKey() throws {
        #expect(try Self.error(Self.base + "samples: 1000000000000\n") == "5 samples: at most 1000")
        #expect(try Self.error(Self.base + "samples: 10000000\n") == "5 samples: at most 1000")
        #expect(try Self.error(Self.base + "samples: 1000\n") == nil)
        #expect(try Self.error(Self.base + "limit: 1000000000000\n") == "5 limit: at most 100000000")
        #expect(try Self.error(Self.base + "retry: {max_attempts: 1000000}\n") == "5 retry.max_attempts: at most 100")
        #expect(
            try Self.error(Self.base + "rate_limit: {tokens_per_minute: 1e30}\n")
                == "5 rate_limit.tokens_per_minute: at most 1e9 (leave it out for no limit)")
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "name: m}", with: "name: m, max_tokens: 100000000}"))
                == "4 model.max_tokens: at most 1000000")
        let long = String(repeating: "n", count: 5000)
        #expect(
            try Self.error(Self.base.replacingOccurrences(of: "name: s", with: "name: \(long)"))
                == "1 name: at most 100 characters (it names run ids and report folders)")
        #expect(try Self.error(Self.base.replacingOccurrences(of: "name: s", with: "name: \(long.prefix(100))")) == nil)
    }
}

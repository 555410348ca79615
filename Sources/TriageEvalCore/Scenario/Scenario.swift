import Foundation
import Yams

/// How a run gets model replies.
package enum CacheMode: String, Sendable, Codable {
    /// Offline: replies come from the store only; a missing one stops the run (exit 2).
    case replay
    /// Use a stored reply when there is one; call the model on a miss and store its reply.
    case record
    /// Always call the model and store the reply (the newest reply wins later lookups).
    case refresh
    /// Always call the model; never read the cache (replies are still stored, for the results to point at).
    case off
}

/// How a run finds a stored reply.
package enum MatchMode: String, Sendable, Codable {
    /// By request key: everything that shapes the answer must be the same (system prompt included).
    case exact
    /// By event key (incident, user message, provider, model, sample): reuses replies recorded under another
    /// system prompt — a changed catalog or template — to measure what the new validator, policy or threshold
    /// does with the same model outputs. Such replies are counted as stale.
    case sameEvent = "same-event"
}

/// Client-side limits of a live run.
package struct RateLimit: Sendable, Equatable {
    /// Requests per minute (nil: unlimited).
    package var requestsPerMinute: Double?
    /// Tokens per minute, counting prompt and completion (nil: unlimited).
    package var tokensPerMinute: Double?
    /// Whether each shard of a sharded run (`run --shard I/N`) may use the whole limits (each shard has its own
    /// API key or quota). By default the limits are one key's, shared: each shard gets 1/N of them.
    package var perShard = false

    /// The limits one shard of `count` keeps to.
    package func forShard(of count: Int) -> RateLimit {
        guard !perShard, count > 1 else { return self }
        var limits = self
        limits.requestsPerMinute = requestsPerMinute.map { $0 / Double(count) }
        limits.tokensPerMinute = tokensPerMinute.map { $0 / Double(count) }
        return limits
    }
}

/// Retries of failed calls.
package struct RetryConfig: Sendable, Equatable {
    /// Attempts per call, the first included.
    package var maxAttempts: Int
    /// Retries allowed across the whole run (nil: 10% of the calls, at least 20).
    package var budget: Int?
}

/// The model a scenario evaluates.
package struct ModelConfig: Sendable, Equatable {
    /// The API it is called through.
    package var provider: Provider
    /// The model id.
    package var name: String
    /// The API base URL (live runs).
    package var baseURL: String?
    /// The name of the environment variable holding the API key (never the key).
    package var apiKeyEnv: String?
    /// `max_tokens` (production: 1024).
    package var maxTokens: Int
    /// Sampling temperature, when set.
    package var temperature: Double?
    /// Seconds to wait for one call.
    package var timeout: Double = 60
    /// OpenAI-compatible `response_format`, passed through as given.
    package var responseFormat: JSONValue?
    /// Other decoding parameters, added to the request body as given.
    package var params: [(key: String, value: JSONValue)] = []
    /// USD per million input tokens, for the report's cost.
    package var inputPricePerMillion: Double?
    /// USD per million output tokens.
    package var outputPricePerMillion: Double?

    package static func == (lhs: ModelConfig, rhs: ModelConfig) -> Bool {
        lhs.provider == rhs.provider && lhs.name == rhs.name && lhs.baseURL == rhs.baseURL
            && lhs.apiKeyEnv == rhs.apiKeyEnv && lhs.maxTokens == rhs.maxTokens && lhs.temperature == rhs.temperature
            && lhs.timeout == rhs.timeout && lhs.responseFormat == rhs.responseFormat
            && JSONValue.object(lhs.params) == JSONValue.object(rhs.params)
            && lhs.inputPricePerMillion == rhs.inputPricePerMillion
            && lhs.outputPricePerMillion == rhs.outputPricePerMillion
    }
}

/// A run definition, resolved from a scenario file (``ScenarioFile``): defaults applied, values checked, paths
/// resolved, modes as enums. Immutable; ``with(cache:)`` makes the copy a command-line override asks for.
package struct Scenario: Sendable, Equatable {
    /// The scenario's name (used in run ids).
    package let name: String
    /// A free-text description.
    package let description: String?
    /// The file it was read from.
    package let path: String
    /// The corpus's name.
    package let corpus: String
    /// The corpus folder.
    package let corpusDirectory: String
    /// The catalog file.
    package let catalogPath: String
    /// The system prompt template file; nil for the seed's.
    package let templatePath: String?
    /// The model.
    package let model: ModelConfig
    /// Samples per incident.
    package let samples: Int
    /// Only the first N labelled incidents (by id), for a cheap trial of a live model; nil for all.
    package let limit: Int?
    /// Production's confidence threshold.
    package let threshold: Double
    /// The approval-gate policy.
    package let approvalGate: Bool
    /// Where replies come from.
    package private(set) var cache: CacheMode
    /// How stored replies are found.
    package let match: MatchMode
    /// Calls in flight at once.
    package let concurrency: Int
    /// Client-side rate limits.
    package let rateLimit: RateLimit
    /// Retries.
    package let retry: RetryConfig
    /// How the report judges the run.
    package let report: ReportSettings
    /// CI gates.
    package private(set) var gates: GateConfig
    /// The pipeline replay (every message in receive order), when the scenario has a `pipeline:` section.
    package let pipeline: PipelineSettings?
    /// The part of the work this run does, when it is one shard of a fan-out (`run --shard I/N`); nil for all of
    /// it. Not part of the file: a command-line setting, stored with the run.
    package private(set) var shard: Shard? = nil
    /// The scenario file's text, stored with the run (a resumed run checks it has not changed).
    package let text: String

    /// The longest scenario name (it names run ids and report folders).
    package static let maxNameLength = 100
    /// The most samples per incident.
    package static let maxSamples = 1000
    /// The largest `limit`.
    package static let maxLimit = 100_000_000

    /// The same scenario with another cache mode (`run --cache`, or a resumed run's own).
    package func with(cache: CacheMode) -> Scenario {
        var copy = self
        copy.cache = cache
        return copy
    }

    /// The same scenario as one shard of a fan-out (`run --shard I/N`), or the whole of it (nil).
    package func with(shard: Shard?) -> Scenario {
        var copy = self
        copy.shard = shard
        return copy
    }

    /// The rate limits this run keeps to: the scenario's, or a shard's part of them.
    package var effectiveRateLimit: RateLimit {
        shard.map { rateLimit.forShard(of: $0.count) } ?? rateLimit
    }

    /// The scenario without its gates: a baseline's run, which later runs are gated against.
    package func withoutGates() -> Scenario {
        var copy = self
        copy.gates = GateConfig()
        return copy
    }

    /// Loads and validates a scenario file. Relative paths resolve against the scenario's folder; `corpus` is a
    /// folder name under `corpora/` beside the scenario's folder (or a path, when it contains a `/`).
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func load(path: String) throws -> Scenario {
        try parse(text: YAMLReader.text(path: path), path: path)
    }

    /// Validates a scenario file's text as ``load(path:)`` does; `path` names the file in errors and anchors
    /// relative paths.
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func parse(text: String, path: String) throws -> Scenario {
        let reader = YAMLReader(file: path)
        let root = try YAMLReader.root(text: text, file: path)
        let file = try ScenarioFile.decode(text: text, root: root, reader: reader)
        return try Resolution(reader: reader, root: root, path: path).scenario(file, text: text)
    }

    /// The resolved scenario in a scenario file's form, as a run stores it (`run.config`): never a key, only the
    /// variable's name.
    package var file: ScenarioFile {
        var pricing: ScenarioFile.Pricing?
        if model.inputPricePerMillion != nil || model.outputPricePerMillion != nil {
            pricing = ScenarioFile.Pricing(input: model.inputPricePerMillion, output: model.outputPricePerMillion)
        }
        return ScenarioFile(
            name: name, description: description, corpus: corpus, catalog: catalogPath, template: templatePath,
            model: ScenarioFile.Model(
                provider: model.provider.rawValue, name: model.name, baseURL: model.baseURL,
                apiKeyEnv: model.apiKeyEnv, maxTokens: model.maxTokens, temperature: model.temperature,
                timeout: model.timeout, responseFormat: model.responseFormat,
                params: model.params.isEmpty ? nil : .object(model.params), pricing: pricing),
            samples: samples, limit: limit, threshold: threshold,
            policy: ScenarioFile.Policy(approvalGate: approvalGate), cache: cache.rawValue, match: match.rawValue,
            concurrency: concurrency,
            rateLimit: ScenarioFile.RateLimit(
                requestsPerMinute: rateLimit.requestsPerMinute, tokensPerMinute: rateLimit.tokensPerMinute,
                perShard: rateLimit.perShard ? true : nil),
            retry: ScenarioFile.Retry(maxAttempts: retry.maxAttempts, budget: retry.budget),
            report: report.file, gates: gates.file, pipeline: pipeline?.file, corpusDirectory: corpusDirectory)
    }
}

/// Resolves a decoded scenario file: defaults, checks (each error naming the key and its line), paths.
private struct Resolution {
    var reader: YAMLReader
    var root: Node
    var path: String

    /// The node at a key path (`model.max_tokens`), for an error's line; the nearest existing parent otherwise.
    func node(_ keyPath: String) -> Node? {
        var node: Node? = root
        for key in keyPath.split(separator: ".") {
            guard case .mapping(let mapping)? = node, let child = mapping.first(where: { $0.key.string == String(key) })
            else { break }
            node = child.value
        }
        return node
    }

    func error(_ keyPath: String, _ message: String) -> ConfigError {
        reader.error(node(keyPath), keyPath, message)
    }

    /// A path relative to the scenario's folder, lexically normalized.
    func resolve(_ relative: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let joined =
            relative.hasPrefix("/")
            ? relative : ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(relative)
        return Path.lexicallyNormalized(joined)
    }

    func scenario(_ file: ScenarioFile, text: String) throws -> Scenario {
        guard let name = file.name else { throw error("name", "missing (required)") }
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw error("name", "use letters, digits, '.', '_' and '-' only (it names run ids)")
        }
        // A run id is the name and a timestamp, and names the report folder: it must fit in a file name.
        guard name.utf8.count <= Scenario.maxNameLength else {
            throw error("name", "at most \(Scenario.maxNameLength) characters (it names run ids and report folders)")
        }
        guard let corpus = file.corpus else { throw error("corpus", "missing (required)") }
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        let candidates =
            corpus.contains("/")
            ? [resolve(corpus)]
            : [resolve("../corpora/\(corpus)"), resolve("corpora/\(corpus)"), "corpora/\(corpus)"]
        guard let corpusDirectory = candidates.first(where: isDirectory) else {
            throw error("corpus", "no corpus folder (looked in \(candidates.joined(separator: ", ")))")
        }
        guard let catalog = file.catalog else { throw error("catalog", "missing (required)") }
        let catalogPath = resolve(catalog)
        guard FileManager.default.fileExists(atPath: catalogPath) else {
            throw error("catalog", "no such file: \(catalogPath)")
        }
        let model = try self.model(file.model)
        let samples = file.samples ?? 1
        guard samples >= 1 else { throw error("samples", "must be at least 1") }
        guard samples <= Scenario.maxSamples else { throw error("samples", "at most \(Scenario.maxSamples)") }
        if let limit = file.limit {
            guard limit >= 1 else { throw error("limit", "must be at least 1") }
            guard limit <= Scenario.maxLimit else { throw error("limit", "at most \(Scenario.maxLimit)") }
        }
        let threshold = file.threshold ?? 0.7
        guard (0...1).contains(threshold) else { throw error("threshold", "must be between 0 and 1") }
        var cache = CacheMode.replay
        if let text = file.cache {
            guard let mode = CacheMode(rawValue: text) else {
                throw error("cache", "must be replay, record, refresh or off (got '\(text)')")
            }
            cache = mode
        }
        var match = MatchMode.exact
        if let text = file.match {
            guard let mode = MatchMode(rawValue: text) else {
                throw error("match", "must be exact or same-event (got '\(text)')")
            }
            match = mode
        }
        let concurrency = file.concurrency ?? 4
        guard (1...1024).contains(concurrency) else { throw error("concurrency", "must be between 1 and 1024") }
        let rateLimit = RateLimit(
            requestsPerMinute: file.rateLimit?.requestsPerMinute, tokensPerMinute: file.rateLimit?.tokensPerMinute,
            perShard: file.rateLimit?.perShard ?? false)
        for (key, limit) in [
            ("requests_per_minute", rateLimit.requestsPerMinute), ("tokens_per_minute", rateLimit.tokensPerMinute),
        ] {
            if let limit, !(limit > 0 && limit.isFinite) { throw error("rate_limit.\(key)", "must be positive") }
            if let limit, limit > 1e9 { throw error("rate_limit.\(key)", "at most 1e9 (leave it out for no limit)") }
        }
        let retry = RetryConfig(maxAttempts: file.retry?.maxAttempts ?? 5, budget: file.retry?.budget)
        guard retry.maxAttempts >= 1 else { throw error("retry.max_attempts", "must be at least 1") }
        guard retry.maxAttempts <= 100 else { throw error("retry.max_attempts", "at most 100") }
        if let budget = retry.budget {
            guard budget >= 0 else { throw error("retry.budget", "must not be negative") }
            guard budget <= 100_000_000 else { throw error("retry.budget", "at most 100000000") }
        }
        if cache != .replay && model.baseURL == nil {
            throw error("model.base_url", "a live run (cache: \(cache.rawValue)) needs the API's base URL")
        }
        return Scenario(
            name: name, description: file.description, path: path,
            corpus: (corpusDirectory as NSString).lastPathComponent, corpusDirectory: corpusDirectory,
            catalogPath: catalogPath, templatePath: file.template.map(resolve), model: model, samples: samples,
            limit: file.limit, threshold: threshold, approvalGate: file.policy?.approvalGate ?? true, cache: cache,
            match: match, concurrency: concurrency, rateLimit: rateLimit, retry: retry,
            report: try ReportSettings(file.report, error: error),
            gates: try GateConfig(file.gates, error: error) {
                $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") ? resolve($0) : $0
            },
            pipeline: try file.pipeline.map { try PipelineSettings($0, error: error, resolve: resolve) },
            text: text)
    }

    private func model(_ file: ScenarioFile.Model?) throws -> ModelConfig {
        guard let file else { throw error("model", "missing (required)") }
        guard let providerName = file.provider else { throw error("model.provider", "missing (required)") }
        guard let provider = Provider(rawValue: providerName) else {
            throw error("model.provider", "must be 'anthropic' or 'openai'")
        }
        guard let name = file.name else { throw error("model.name", "missing (required)") }
        let maxTokens = file.maxTokens ?? 1024
        guard maxTokens > 0 else { throw error("model.max_tokens", "must be positive") }
        guard maxTokens <= 1_000_000 else { throw error("model.max_tokens", "at most 1000000") }
        if let temperature = file.temperature, !temperature.isFinite {
            throw error("model.temperature", "must be a number")
        }
        var model = ModelConfig(
            provider: provider, name: name, baseURL: file.baseURL, apiKeyEnv: file.apiKeyEnv, maxTokens: maxTokens,
            temperature: file.temperature)
        if let timeout = file.timeout {
            guard timeout > 0 && timeout <= 86_400 else {
                throw error("model.timeout", "must be positive and at most 86400 (seconds)")
            }
            model.timeout = timeout
        }
        // Pass-through values are typed as PyYAML types them, from the file's own nodes.
        if file.responseFormat != nil, let node = node("model.response_format") {
            model.responseFormat = try reader.json(node, "model.response_format")
        }
        if file.params != nil, let node = node("model.params") {
            guard case .object(let members) = try reader.json(node, "model.params") else {
                throw error("model.params", "must be a mapping of decoding parameters")
            }
            let reserved: Set<String> = ["model", "messages", "system", "max_tokens", "temperature", "response_format"]
            if let clash = members.first(where: { reserved.contains($0.key) }) {
                throw reader.error(node, "model.params.\(clash.key)", "set it with its own model key, not in params")
            }
            model.params = members
        }
        model.inputPricePerMillion = file.pricing?.input
        model.outputPricePerMillion = file.pricing?.output
        for (key, price) in [("input", file.pricing?.input), ("output", file.pricing?.output)] {
            if let price, !(price >= 0 && price.isFinite) {
                throw error("model.pricing.\(key)", "must be a price (USD per million tokens)")
            }
        }
        if let baseURL = model.baseURL, URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw error("model.base_url", "must be an http(s) URL")
        }
        return model
    }
}

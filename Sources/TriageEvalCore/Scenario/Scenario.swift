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
    /// `anthropic` or `openai`.
    package var provider: String
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

/// A run definition: `scenarios/*.yaml`.
package struct Scenario: Sendable, Equatable {
    /// The scenario's name (used in run ids).
    package var name: String
    /// A free-text description.
    package var description: String?
    /// The file it was read from.
    package var path: String
    /// The corpus's name.
    package var corpus: String
    /// The corpus folder.
    package var corpusDirectory: String
    /// The catalog file.
    package var catalogPath: String
    /// The system prompt template file; nil for the seed's.
    package var templatePath: String?
    /// The model.
    package var model: ModelConfig
    /// Samples per incident.
    package var samples: Int
    /// Only the first N labelled incidents (by id), for a cheap trial of a live model; nil for all.
    package var limit: Int?
    /// Production's confidence threshold.
    package var threshold: Double
    /// The approval-gate policy.
    package var approvalGate: Bool
    /// Where replies come from.
    package var cache: CacheMode
    /// How stored replies are found.
    package var match: MatchMode
    /// Calls in flight at once.
    package var concurrency: Int
    /// Client-side rate limits.
    package var rateLimit: RateLimit
    /// Retries.
    package var retry: RetryConfig
    /// How the report judges the run.
    package var report: ReportSettings
    /// CI gates.
    package var gates: GateConfig
    /// The scenario file's text, stored with the run (a resumed run checks it has not changed).
    package var text: String

    static let topLevelKeys: Set<String> = [
        "name", "description", "corpus", "catalog", "template", "model", "samples", "threshold", "policy", "cache",
        "match", "concurrency", "rate_limit", "retry", "limit", "report", "gates",
    ]
    static let modelKeys: Set<String> = [
        "provider", "name", "base_url", "api_key_env", "max_tokens", "temperature", "timeout", "response_format",
        "params", "pricing",
    ]
    static let policyKeys: Set<String> = ["approval_gate"]

    /// Loads and validates a scenario file. Relative paths resolve against the scenario's folder; `corpus` is a
    /// folder name under `corpora/` beside the scenario's folder (or a path, when it contains a `/`).
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func load(path: String) throws -> Scenario {
        let (reader, root, text) = try YAMLReader.load(path: path)
        let members = try reader.mapping(root, "", allowed: topLevelKeys)
        func value(_ key: String) -> Node? { members.first { $0.key == key }?.node }
        func required(_ key: String) throws -> Node {
            guard let node = value(key) else { throw reader.error(root, key, "missing (required)") }
            return node
        }
        let directory = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String {
            let joined =
                relative.hasPrefix("/")
                ? relative : ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(relative)
            return Path.lexicallyNormalized(joined)
        }
        let name = try reader.string(try required("name"), "name")
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw reader.error(value("name"), "name", "use letters, digits, '.', '_' and '-' only (it names run ids)")
        }
        let corpusNode = try required("corpus")
        let corpus = try reader.string(corpusNode, "corpus")
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        let candidates =
            corpus.contains("/")
            ? [resolve(corpus)]
            : [resolve("../corpora/\(corpus)"), resolve("corpora/\(corpus)"), "corpora/\(corpus)"]
        guard let corpusDirectory = candidates.first(where: isDirectory) else {
            throw reader.error(
                corpusNode, "corpus", "no corpus folder (looked in \(candidates.joined(separator: ", ")))")
        }
        let catalogNode = try required("catalog")
        let catalogPath = resolve(try reader.string(catalogNode, "catalog"))
        guard FileManager.default.fileExists(atPath: catalogPath) else {
            throw reader.error(catalogNode, "catalog", "no such file: \(catalogPath)")
        }
        let templatePath = try value("template").map { resolve(try reader.string($0, "template")) }

        let modelNode = try required("model")
        let modelMembers = try reader.mapping(modelNode, "model", allowed: modelKeys)
        func modelValue(_ key: String) -> Node? { modelMembers.first { $0.key == key }?.node }
        guard let providerNode = modelValue("provider") else {
            throw reader.error(modelNode, "model.provider", "missing (required)")
        }
        let provider = try reader.string(providerNode, "model.provider")
        guard ["anthropic", "openai"].contains(provider) else {
            throw reader.error(providerNode, "model.provider", "must be 'anthropic' or 'openai'")
        }
        guard let modelNameNode = modelValue("name") else {
            throw reader.error(modelNode, "model.name", "missing (required)")
        }
        let maxTokens = try modelValue("max_tokens").map { try reader.int($0, "model.max_tokens") } ?? 1024
        guard maxTokens > 0 else {
            throw reader.error(modelValue("max_tokens"), "model.max_tokens", "must be positive")
        }
        var model = ModelConfig(
            provider: provider,
            name: try reader.string(modelNameNode, "model.name"),
            baseURL: try modelValue("base_url").map { try reader.string($0, "model.base_url") },
            apiKeyEnv: try modelValue("api_key_env").map { try reader.string($0, "model.api_key_env") },
            maxTokens: maxTokens,
            temperature: try modelValue("temperature").map { try reader.double($0, "model.temperature") }
        )
        if let node = modelValue("timeout") {
            model.timeout = try reader.double(node, "model.timeout")
            guard model.timeout > 0 else { throw reader.error(node, "model.timeout", "must be positive (seconds)") }
        }
        if let node = modelValue("response_format") {
            model.responseFormat = try reader.json(node, "model.response_format")
        }
        if let node = modelValue("params") {
            guard case .object(let members) = try reader.json(node, "model.params") else {
                throw reader.error(node, "model.params", "must be a mapping of decoding parameters")
            }
            let reserved: Set<String> = ["model", "messages", "system", "max_tokens", "temperature", "response_format"]
            if let clash = members.first(where: { reserved.contains($0.key) }) {
                throw reader.error(node, "model.params.\(clash.key)", "set it with its own model key, not in params")
            }
            model.params = members
        }
        if let node = modelValue("pricing") {
            let pricing = try reader.mapping(node, "model.pricing", allowed: ["input", "output"])
            for (key, valueNode, _) in pricing {
                let price = try reader.double(valueNode, "model.pricing.\(key)")
                if key == "input" { model.inputPricePerMillion = price } else { model.outputPricePerMillion = price }
            }
        }
        if let baseURL = model.baseURL, URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw reader.error(modelValue("base_url"), "model.base_url", "must be an http(s) URL")
        }

        let samples = try value("samples").map { try reader.int($0, "samples") } ?? 1
        guard samples >= 1 else { throw reader.error(value("samples"), "samples", "must be at least 1") }
        let limit = try value("limit").map { try reader.int($0, "limit") }
        if let limit, limit < 1 { throw reader.error(value("limit"), "limit", "must be at least 1") }
        let threshold = try value("threshold").map { try reader.double($0, "threshold") } ?? 0.7
        guard (0...1).contains(threshold) else {
            throw reader.error(value("threshold"), "threshold", "must be between 0 and 1")
        }
        var approvalGate = true
        if let policyNode = value("policy") {
            let policy = try reader.mapping(policyNode, "policy", allowed: policyKeys)
            if let gate = policy.first(where: { $0.key == "approval_gate" }) {
                approvalGate = try reader.bool(gate.node, "policy.approval_gate")
            }
        }
        var cache = CacheMode.replay
        if let cacheNode = value("cache") {
            let text = try reader.string(cacheNode, "cache")
            guard let mode = CacheMode(rawValue: text) else {
                throw reader.error(cacheNode, "cache", "must be replay, record, refresh or off (got '\(text)')")
            }
            cache = mode
        }
        var match = MatchMode.exact
        if let matchNode = value("match") {
            let text = try reader.string(matchNode, "match")
            guard let mode = MatchMode(rawValue: text) else {
                throw reader.error(matchNode, "match", "must be exact or same-event (got '\(text)')")
            }
            match = mode
        }
        let concurrency = try value("concurrency").map { try reader.int($0, "concurrency") } ?? 4
        guard (1...1024).contains(concurrency) else {
            throw reader.error(value("concurrency"), "concurrency", "must be between 1 and 1024")
        }
        var rateLimit = RateLimit()
        if let node = value("rate_limit") {
            for (key, valueNode, _) in try reader.mapping(
                node, "rate_limit", allowed: ["requests_per_minute", "tokens_per_minute"])
            {
                let limit = try reader.double(valueNode, "rate_limit.\(key)")
                guard limit > 0 else { throw reader.error(valueNode, "rate_limit.\(key)", "must be positive") }
                if key == "requests_per_minute" {
                    rateLimit.requestsPerMinute = limit
                } else {
                    rateLimit.tokensPerMinute = limit
                }
            }
        }
        var retry = RetryConfig(maxAttempts: 5, budget: nil)
        if let node = value("retry") {
            for (key, valueNode, _) in try reader.mapping(node, "retry", allowed: ["max_attempts", "budget"]) {
                let number = try reader.int(valueNode, "retry.\(key)")
                guard number >= (key == "max_attempts" ? 1 : 0) else {
                    throw reader.error(
                        valueNode, "retry.\(key)", key == "max_attempts" ? "must be at least 1" : "must not be negative"
                    )
                }
                if key == "max_attempts" { retry.maxAttempts = number } else { retry.budget = number }
            }
        }
        if cache != .replay && model.baseURL == nil {
            throw reader.error(
                modelNode, "model.base_url", "a live run (cache: \(cache.rawValue)) needs the API's base URL")
        }
        return Scenario(
            name: name,
            description: try value("description").map { try reader.string($0, "description") },
            path: path,
            corpus: (corpusDirectory as NSString).lastPathComponent,
            corpusDirectory: corpusDirectory,
            catalogPath: catalogPath,
            templatePath: templatePath,
            model: model,
            samples: samples,
            limit: limit,
            threshold: threshold,
            approvalGate: approvalGate,
            cache: cache,
            match: match,
            concurrency: concurrency,
            rateLimit: rateLimit,
            retry: retry,
            report: try value("report").map { try ReportSettings.read($0, reader: reader) } ?? ReportSettings(),
            gates: try value("gates").map { try GateConfig.read($0, reader: reader, resolve: resolve) } ?? GateConfig(),
            text: text
        )
    }

    /// The effective configuration as JSON, stored with every run.
    package var effectiveConfig: JSONValue {
        var modelMembers: [(key: String, value: JSONValue)] = [
            ("provider", .string(model.provider)), ("name", .string(model.name)),
            ("max_tokens", .integer(String(model.maxTokens))),
        ]
        if let baseURL = model.baseURL { modelMembers.append(("base_url", .string(baseURL))) }
        if let apiKeyEnv = model.apiKeyEnv { modelMembers.append(("api_key_env", .string(apiKeyEnv))) }
        if let temperature = model.temperature { modelMembers.append(("temperature", .double(temperature))) }
        modelMembers.append(("timeout", .double(model.timeout)))
        if let responseFormat = model.responseFormat { modelMembers.append(("response_format", responseFormat)) }
        if !model.params.isEmpty { modelMembers.append(("params", .object(model.params))) }
        var pricing: [(key: String, value: JSONValue)] = []
        if let input = model.inputPricePerMillion { pricing.append(("input", .double(input))) }
        if let output = model.outputPricePerMillion { pricing.append(("output", .double(output))) }
        if !pricing.isEmpty { modelMembers.append(("pricing", .object(pricing))) }
        return .object([
            ("name", .string(name)),
            ("corpus", .string(corpus)),
            ("corpus_directory", .string(corpusDirectory)),
            ("catalog", .string(catalogPath)),
            ("template", templatePath.map { .string($0) } ?? .null),
            ("model", .object(modelMembers)),
            ("samples", .integer(String(samples))),
            ("limit", limit.map { .integer(String($0)) } ?? .null),
            ("threshold", .double(threshold)),
            ("policy", .object([("approval_gate", .bool(approvalGate))])),
            ("cache", .string(cache.rawValue)),
            ("match", .string(match.rawValue)),
            ("concurrency", .integer(String(concurrency))),
            ("report", report.jsonValue),
            ("gates", gates.jsonValue),
        ])
    }
}

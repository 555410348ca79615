import Foundation
import Yams

/// How a run gets model replies.
package enum CacheMode: String, Sendable, Codable {
    /// Offline: replies come from the store only; a missing one stops the run (exit 2).
    case replay
}

/// The model a scenario evaluates.
package struct ModelConfig: Sendable, Equatable, Codable {
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
    /// Production's confidence threshold.
    package var threshold: Double
    /// The approval-gate policy.
    package var approvalGate: Bool
    /// Where replies come from.
    package var cache: CacheMode

    static let topLevelKeys: Set<String> = [
        "name", "description", "corpus", "catalog", "template", "model", "samples", "threshold", "policy", "cache",
    ]
    static let modelKeys: Set<String> = ["provider", "name", "base_url", "api_key_env", "max_tokens", "temperature"]
    static let policyKeys: Set<String> = ["approval_gate"]

    /// Loads and validates a scenario file. Relative paths resolve against the scenario's folder; `corpus` is a
    /// folder name under `corpora/` beside the scenario's folder (or a path, when it contains a `/`).
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func load(path: String) throws -> Scenario {
        let (reader, root, _) = try YAMLReader.load(path: path)
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
        let model = ModelConfig(
            provider: provider,
            name: try reader.string(modelNameNode, "model.name"),
            baseURL: try modelValue("base_url").map { try reader.string($0, "model.base_url") },
            apiKeyEnv: try modelValue("api_key_env").map { try reader.string($0, "model.api_key_env") },
            maxTokens: maxTokens,
            temperature: try modelValue("temperature").map { try reader.double($0, "model.temperature") }
        )

        let samples = try value("samples").map { try reader.int($0, "samples") } ?? 1
        guard samples >= 1 else { throw reader.error(value("samples"), "samples", "must be at least 1") }
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
                throw reader.error(
                    cacheNode, "cache",
                    "unsupported mode '\(text)': this version replays cached replies only ('replay')")
            }
            cache = mode
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
            threshold: threshold,
            approvalGate: approvalGate,
            cache: cache
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
        return .object([
            ("name", .string(name)),
            ("corpus", .string(corpus)),
            ("corpus_directory", .string(corpusDirectory)),
            ("catalog", .string(catalogPath)),
            ("template", templatePath.map { .string($0) } ?? .null),
            ("model", .object(modelMembers)),
            ("samples", .integer(String(samples))),
            ("threshold", .double(threshold)),
            ("policy", .object([("approval_gate", .bool(approvalGate))])),
            ("cache", .string(cache.rawValue)),
        ])
    }
}

import Foundation
import Yams

/// What a scenario file says (`scenarios/*.yaml`): every key optional, exactly as written, decoded with Yams'
/// decoder.
///
/// ``Scenario/load(path:)`` first checks the file's keys against this type's (an unknown or repeated key is an
/// error naming its line), then decodes it, then applies the defaults and checks and resolves it into one
/// immutable ``Scenario``. A run stores its resolved scenario in this same form (``Scenario/file``) as JSON, and
/// reports read it back with this type.
package struct ScenarioFile: Codable, Sendable, Equatable {
    package struct Model: Codable, Sendable, Equatable {
        package var provider: String?
        package var name: String?
        package var baseURL: String?
        package var apiKeyEnv: String?
        package var maxTokens: Int?
        package var temperature: Double?
        package var timeout: Double?
        /// Passed through to the request as given. In a YAML file it is typed as PyYAML types YAML (production's
        /// loader), so ``Scenario/load(path:)`` reads it from the file's node rather than from Yams' decoder.
        package var responseFormat: JSONValue?
        /// Other decoding parameters, passed through like ``responseFormat``.
        package var params: JSONValue?
        package var pricing: Pricing?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case provider, name, temperature, timeout, params, pricing
            case baseURL = "base_url"
            case apiKeyEnv = "api_key_env"
            case maxTokens = "max_tokens"
            case responseFormat = "response_format"
        }
    }

    /// USD per million tokens.
    package struct Pricing: Codable, Sendable, Equatable {
        package var input: Double?
        package var output: Double?

        enum CodingKeys: String, CodingKey, CaseIterable { case input, output }
    }

    package struct Policy: Codable, Sendable, Equatable {
        package var approvalGate: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable { case approvalGate = "approval_gate" }
    }

    package struct RateLimit: Codable, Sendable, Equatable {
        package var requestsPerMinute: Double?
        package var tokensPerMinute: Double?
        /// Each shard of a sharded run may use the whole limits (default false: they are divided among the shards).
        package var perShard: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case requestsPerMinute = "requests_per_minute"
            case tokensPerMinute = "tokens_per_minute"
            case perShard = "per_shard"
        }
    }

    package struct Retry: Codable, Sendable, Equatable {
        package var maxAttempts: Int?
        package var budget: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case budget
            case maxAttempts = "max_attempts"
        }
    }

    package struct Report: Codable, Sendable, Equatable {
        package var correctness: String?
        package var bins: Int?
        package var invalidJSONBaseline: Double?
        package var targetPrecision: Double?
        package var resample: String?
        package var browserRows: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case correctness, bins, resample
            case browserRows = "browser_rows"
            case invalidJSONBaseline = "invalid_json_baseline"
            case targetPrecision = "target_precision"
        }
    }

    package struct Gates: Codable, Sendable, Equatable {
        package var maxInvalidJSONRate: Double?
        package var minDecisionAccuracy: Double?
        package var minRouteAccuracy: Double?
        package var maxUnsafeExecutions: Int?
        package var maxECE: Double?
        package var minActRecall: Double?
        package var minLiftVsAlwaysDefer: Double?
        package var noSignificantRegressionVs: String?
        package var route: String?
        package var maxNewUnsafeVs: String?
        package var maxUnsafeRateIncreaseVs: UnsafeIncrease?
        package var actions: [String: ActionGate]?

        /// `max_unsafe_rate_increase_vs: {baseline, margin}`.
        package struct UnsafeIncrease: Codable, Sendable, Equatable {
            package var baseline: String?
            package var margin: Double?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case baseline, margin
            }
        }

        /// A gate on one action: `actions: {rollback_release: {max_unsafe: 0}}`.
        package struct ActionGate: Codable, Sendable, Equatable {
            package var maxUnsafe: Int?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case maxUnsafe = "max_unsafe"
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case route, actions
            case maxNewUnsafeVs = "max_new_unsafe_vs"
            case maxUnsafeRateIncreaseVs = "max_unsafe_rate_increase_vs"
            case maxInvalidJSONRate = "max_invalid_json_rate"
            case minDecisionAccuracy = "min_decision_accuracy"
            case minRouteAccuracy = "min_route_accuracy"
            case maxUnsafeExecutions = "max_unsafe_executions"
            case maxECE = "max_ece"
            case minActRecall = "min_act_recall"
            case minLiftVsAlwaysDefer = "min_lift_vs_always_defer"
            case noSignificantRegressionVs = "no_significant_regression_vs"
        }
    }

    /// The pipeline replay: every delivery a message, in receive order (see ``PipelineSettings``).
    package struct Pipeline: Codable, Sendable, Equatable {
        /// The message kinds production plans (`first`, `repeat`, `update`, `resolved`).
        package var plan: [String]?
        /// How many replies are recorded per distinct user message; later plannings reuse them.
        package var samples: Int?
        /// The pipeline's own manifests (files or folders): EventSources, Sensors, WorkflowTemplates.
        package var manifests: [String]?
        package var idempotency: Idempotency?
        package var deploys: Deploys?
        package var parallelism: Parallelism?
        package var approvals: Approvals?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case plan, samples, manifests, idempotency, deploys, parallelism, approvals
        }

        /// `pipeline.idempotency`: the seed's `SET key running NX EX ttl` when a Workflow starts.
        package struct Idempotency: Codable, Sendable, Equatable {
            /// `gate`, `step` or `off`.
            package var mode: String?
            /// The key template (`{incident_id}`, `{action}`).
            package var key: String?
            /// A duration (`30m`, `1800s`, `1800`).
            package var ttl: String?

            enum CodingKeys: String, CodingKey, CaseIterable { case mode, key, ttl }
        }

        /// `pipeline.deploys`: the deploy timeline and the Sensor's suppression window.
        package struct Deploys: Codable, Sendable, Equatable {
            /// A deploy timeline (JSON Lines or a Grafana annotation export); default: the corpus's deploys.jsonl.
            package var file: String?
            package var window: String?
            /// `start` or `end`.
            package var anchor: String?
            package var suppress: Bool?

            enum CodingKeys: String, CodingKey, CaseIterable { case file, window, anchor, suppress }
        }

        /// `pipeline.parallelism`: remediations running at once.
        package struct Parallelism: Codable, Sendable, Equatable {
            package var limit: Int?
            package var namespaceLimit: Int?
            /// `deadline` (each Workflow's activeDeadlineSeconds) or a duration.
            package var duration: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case limit, duration
                case namespaceLimit = "namespace_limit"
            }
        }

        /// `pipeline.approvals`: the human gate.
        package struct Approvals: Codable, Sendable, Equatable {
            /// `none`, `label` or `all`.
            package var approver: String?
            package var ttl: String?
            /// How long the approver takes to answer.
            package var after: String?

            enum CodingKeys: String, CodingKey, CaseIterable { case approver, ttl, after }
        }
    }

    package var name: String?
    package var description: String?
    package var corpus: String?
    package var catalog: String?
    package var template: String?
    package var model: Model?
    package var samples: Int?
    package var limit: Int?
    package var threshold: Double?
    package var policy: Policy?
    package var cache: String?
    package var match: String?
    package var concurrency: Int?
    package var rateLimit: RateLimit?
    package var retry: Retry?
    package var report: Report?
    package var gates: Gates?
    package var pipeline: Pipeline?
    /// Only in a run's stored form: the corpus folder the scenario resolved to.
    package var corpusDirectory: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, corpus, catalog, template, model, samples, limit, threshold, policy, cache, match
        case concurrency, retry, report, gates, pipeline
        case rateLimit = "rate_limit"
        case corpusDirectory = "corpus_directory"
    }

    /// The keys a file may have at each mapping that has fixed keys (`response_format` and `params` have any).
    static let allowedKeys: [String: Set<String>] = [
        "": Set(CodingKeys.allCases.map(\.rawValue)).subtracting([CodingKeys.corpusDirectory.rawValue]),
        "model": Set(Model.CodingKeys.allCases.map(\.rawValue)),
        "model.pricing": Set(Pricing.CodingKeys.allCases.map(\.rawValue)),
        "policy": Set(Policy.CodingKeys.allCases.map(\.rawValue)),
        "rate_limit": Set(RateLimit.CodingKeys.allCases.map(\.rawValue)),
        "retry": Set(Retry.CodingKeys.allCases.map(\.rawValue)),
        "pipeline": Set(Pipeline.CodingKeys.allCases.map(\.rawValue)),
        "pipeline.idempotency": Set(Pipeline.Idempotency.CodingKeys.allCases.map(\.rawValue)),
        "pipeline.deploys": Set(Pipeline.Deploys.CodingKeys.allCases.map(\.rawValue)),
        "pipeline.parallelism": Set(Pipeline.Parallelism.CodingKeys.allCases.map(\.rawValue)),
        "pipeline.approvals": Set(Pipeline.Approvals.CodingKeys.allCases.map(\.rawValue)),
        "report": Set(Report.CodingKeys.allCases.map(\.rawValue)),
        "gates": Set(Gates.CodingKeys.allCases.map(\.rawValue)),
        "gates.max_unsafe_rate_increase_vs": Set(Gates.UnsafeIncrease.CodingKeys.allCases.map(\.rawValue)),
    ]

    /// The keys of each action's gate (`gates.actions.<name>`): any action name, fixed keys below it.
    static let actionGateKeys = Set(Gates.ActionGate.CodingKeys.allCases.map(\.rawValue))

    /// Decodes a scenario file's text, after checking every fixed mapping's keys (unknown and repeated keys are
    /// errors naming their line); a value of the wrong type is an error naming its key and line.
    /// - Throws: ``ConfigError``.
    static func decode(text: String, root: Node, reader: YAMLReader) throws -> ScenarioFile {
        try checkKeys(root, path: "", reader: reader)
        do {
            return try YAMLDecoder().decode(ScenarioFile.self, from: text)
        } catch let error as DecodingError {
            throw reader.error(error, root: root)
        }
    }

    private static func checkKeys(_ node: Node, path: String, reader: YAMLReader) throws {
        // `gates.actions.<action>` (an action name has no dot) has the action gate's keys.
        let isActionGate = path.hasPrefix("gates.actions.") && !path.dropFirst("gates.actions.".count).contains(".")
        guard let allowed = allowedKeys[path] ?? (isActionGate ? actionGateKeys : nil) else {
            if path == "gates.actions" {
                for (key, value, _) in try reader.mapping(node, path, allowed: nil) {
                    try checkKeys(value, path: "\(path).\(key)", reader: reader)
                }
            }
            return
        }
        for (key, value, _) in try reader.mapping(node, path, allowed: allowed) {
            try checkKeys(value, path: path.isEmpty ? key : "\(path).\(key)", reader: reader)
        }
    }

    /// A run's stored form.
    package var storedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // Every member is a string, a number, a Boolean or a JSON value: encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// Reads a run's stored form back (an empty one for a store whose text cannot be read).
    package static func stored(_ json: String) -> ScenarioFile {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? decoder.decode(ScenarioFile.self, from: Data(json.utf8))) ?? ScenarioFile()
    }
}

extension YAMLReader {
    /// A decoding error as a ``ConfigError`` naming the key and the line of its value.
    func error(_ decoding: DecodingError, root: Node) -> ConfigError {
        let (path, message): ([any CodingKey], String) =
            switch decoding {
            case .typeMismatch(let type, let context): (context.codingPath, Self.expectation(type))
            case .valueNotFound(let type, let context): (context.codingPath, Self.expectation(type))
            case .keyNotFound(let key, let context): (context.codingPath + [key], "missing (required)")
            case .dataCorrupted(let context): (context.codingPath, context.debugDescription)
            @unknown default: ([], "\(decoding)")
            }
        var node: Node? = root
        for key in path {
            if let index = key.intValue, case .sequence(let sequence)? = node {
                node = index < sequence.count ? sequence[index] : node
            } else if case .mapping(let mapping)? = node {
                node = mapping.first { $0.key.string == key.stringValue }?.value ?? node
            }
        }
        let keyPath = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return error(node, keyPath, message)
    }

    private static func expectation(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int?.Type: return "must be an integer"
        case is Double.Type, is Double?.Type: return "must be a number"
        case is Bool.Type, is Bool?.Type: return "must be true or false"
        case is String.Type, is String?.Type: return "must be a string"
        default: return "has the wrong type"
        }
    }
}

extension JSONValue: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            self = .object(try keyed.allKeys.map { ($0.stringValue, try keyed.decode(JSONValue.self, forKey: $0)) })
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !unkeyed.isAtEnd { elements.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? single.decode(Int64.self) {
            self = .integer(String(integer))
        } else if let number = try? single.decode(Double.self) {
            self = .double(number)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let flag):
            var single = encoder.singleValueContainer()
            try single.encode(flag)
        case .integer(let digits):
            var single = encoder.singleValueContainer()
            if let integer = Int64(digits) { try single.encode(integer) } else { try single.encode(Double(digits)) }
        case .double(let number):
            var single = encoder.singleValueContainer()
            try single.encode(number)
        case .string(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .array(let elements):
            var unkeyed = encoder.unkeyedContainer()
            for element in elements { try unkeyed.encode(element) }
        case .object(let members):
            var keyed = encoder.container(keyedBy: Key.self)
            for member in members { try keyed.encode(member.value, forKey: Key(stringValue: member.key)) }
        }
    }
}

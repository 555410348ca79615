import Yams

/// How a run's report judges it: scenario key `report:`.
package struct ReportSettings: Sendable, Equatable {
    /// What calibration counts as a right answer.
    package enum Correctness: String, Sendable, Codable, CaseIterable {
        /// The decision does what the label says (the default).
        case decision
        /// The decision goes where the label says.
        case route
    }

    /// What calibration counts as right.
    package var correctness = Correctness.decision
    /// Bins of the reliability tables (equal-width and equal-mass).
    package var bins = 10
    /// The invalid-JSON rate the run is tested against (the seed reports 1 in 200).
    package var invalidJSONBaseline = 1.0 / 200
    /// The auto-execute precision the threshold recommendation must reach, as a Wilson lower bound.
    package var targetPrecision = 0.95

    package init() {}

    static let keys: Set<String> = ["correctness", "bins", "invalid_json_baseline", "target_precision"]

    /// Reads `report:`.
    static func read(_ node: Node, reader: YAMLReader) throws -> ReportSettings {
        var settings = ReportSettings()
        for (key, value, _) in try reader.mapping(node, "report", allowed: keys) {
            let path = "report.\(key)"
            switch key {
            case "correctness":
                let text = try reader.string(value, path)
                guard let correctness = Correctness(rawValue: text) else {
                    throw reader.error(value, path, "must be decision or route (got '\(text)')")
                }
                settings.correctness = correctness
            case "bins":
                settings.bins = try reader.int(value, path)
                guard (1...100).contains(settings.bins) else { throw reader.error(value, path, "must be 1 to 100") }
            case "invalid_json_baseline":
                settings.invalidJSONBaseline = try reader.double(value, path)
                guard settings.invalidJSONBaseline > 0 && settings.invalidJSONBaseline < 1 else {
                    throw reader.error(value, path, "must be a rate between 0 and 1 (exclusive)")
                }
            default:
                settings.targetPrecision = try reader.double(value, path)
                guard settings.targetPrecision > 0 && settings.targetPrecision <= 1 else {
                    throw reader.error(value, path, "must be a precision in (0, 1]")
                }
            }
        }
        return settings
    }

    var jsonValue: JSONValue {
        .object([
            ("correctness", .string(correctness.rawValue)), ("bins", .integer(String(bins))),
            ("invalid_json_baseline", .double(invalidJSONBaseline)), ("target_precision", .double(targetPrecision)),
        ])
    }

    /// Reads the settings back from a run's stored configuration (defaults for runs made before they existed).
    package init(config: JSONValue) {
        let report = config["report"]
        if let text = report?["correctness"]?.stringValue, let value = Correctness(rawValue: text) {
            correctness = value
        }
        if let bins = report?["bins"]?.doubleValue { self.bins = Int(bins) }
        if let rate = report?["invalid_json_baseline"]?.doubleValue { invalidJSONBaseline = rate }
        if let precision = report?["target_precision"]?.doubleValue { targetPrecision = precision }
    }
}

/// CI gates: scenario key `gates:`. Each is optional; a run passes when every given gate passes.
package struct GateConfig: Sendable, Equatable {
    package var maxInvalidJSONRate: Double?
    package var minDecisionAccuracy: Double?
    package var minRouteAccuracy: Double?
    package var maxUnsafeExecutions: Int?
    package var maxECE: Double?
    /// A run id, or a scenario file whose latest complete run is the baseline.
    package var noSignificantRegressionVs: String?

    package init() {}

    package var isEmpty: Bool { self == GateConfig() }

    static let keys: Set<String> = [
        "max_invalid_json_rate", "min_decision_accuracy", "min_route_accuracy", "max_unsafe_executions", "max_ece",
        "no_significant_regression_vs",
    ]

    /// Reads `gates:`; a scenario named by `no_significant_regression_vs` resolves against the scenario's folder.
    static func read(_ node: Node, reader: YAMLReader, resolve: (String) -> String) throws -> GateConfig {
        var gates = GateConfig()
        for (key, value, _) in try reader.mapping(node, "gates", allowed: keys) {
            let path = "gates.\(key)"
            func rate() throws -> Double {
                let number = try reader.double(value, path)
                guard (0...1).contains(number) else { throw reader.error(value, path, "must be between 0 and 1") }
                return number
            }
            switch key {
            case "max_invalid_json_rate": gates.maxInvalidJSONRate = try rate()
            case "min_decision_accuracy": gates.minDecisionAccuracy = try rate()
            case "min_route_accuracy": gates.minRouteAccuracy = try rate()
            case "max_ece": gates.maxECE = try rate()
            case "max_unsafe_executions":
                gates.maxUnsafeExecutions = try reader.int(value, path)
                guard gates.maxUnsafeExecutions! >= 0 else { throw reader.error(value, path, "must not be negative") }
            default:
                let text = try reader.string(value, path)
                gates.noSignificantRegressionVs =
                    text.hasSuffix(".yaml") || text.hasSuffix(".yml") ? resolve(text) : text
            }
        }
        return gates
    }

    var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let value = maxInvalidJSONRate { members.append(("max_invalid_json_rate", .double(value))) }
        if let value = minDecisionAccuracy { members.append(("min_decision_accuracy", .double(value))) }
        if let value = minRouteAccuracy { members.append(("min_route_accuracy", .double(value))) }
        if let value = maxUnsafeExecutions { members.append(("max_unsafe_executions", .integer(String(value)))) }
        if let value = maxECE { members.append(("max_ece", .double(value))) }
        if let value = noSignificantRegressionVs { members.append(("no_significant_regression_vs", .string(value))) }
        return .object(members)
    }

    /// Reads the gates back from a run's stored configuration.
    package init(config: JSONValue) {
        let gates = config["gates"]
        maxInvalidJSONRate = gates?["max_invalid_json_rate"]?.doubleValue
        minDecisionAccuracy = gates?["min_decision_accuracy"]?.doubleValue
        minRouteAccuracy = gates?["min_route_accuracy"]?.doubleValue
        maxUnsafeExecutions = gates?["max_unsafe_executions"]?.doubleValue.map { Int($0) }
        maxECE = gates?["max_ece"]?.doubleValue
        noSignificantRegressionVs = gates?["no_significant_regression_vs"]?.stringValue
    }
}

extension JSONValue {
    /// A number as a double (integers converted), or nil.
    package var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .integer(let digits): return Double(digits)
        default: return nil
        }
    }
}

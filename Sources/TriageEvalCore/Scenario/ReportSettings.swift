/// How a run's report judges it: scenario key `report:`.
package struct ReportSettings: Sendable, Equatable {
    /// What calibration counts as a right answer.
    package enum Correctness: String, Sendable, Codable, CaseIterable {
        /// The decision does what the label says (the default).
        case decision
        /// The decision goes where the label says.
        case route
    }

    /// What a cluster bootstrap resamples: the rows of one cluster share what makes them easy or hard.
    package enum Resample: String, Sendable, Codable, CaseIterable {
        /// Incidents: all samples of an incident together (the default; with one sample per incident the rows
        /// are independent and Wilson's interval is used).
        case incident
        /// Label rules: every incident a rule labelled together (a hand-written label is its own cluster).
        case labelRule = "label_rule"
        /// Alert types: every incident of an `alertname` together.
        case alertType = "alert_type"
    }

    /// What calibration counts as right.
    package var correctness = Correctness.decision
    /// What the intervals resample.
    package var resample = Resample.incident
    /// The most results `report.html`'s results browser lists (the rest are counted).
    package var browserRows = 2000
    /// Bins of the reliability tables (equal-width and equal-mass).
    package var bins = 10
    /// The invalid-JSON rate the run is tested against (the seed reports 1 in 200).
    package var invalidJSONBaseline = 1.0 / 200
    /// The auto-execute precision the threshold recommendation must reach, as a Wilson lower bound.
    package var targetPrecision = 0.95

    package init() {}

    /// Resolves `report:` of a scenario file.
    /// - Parameter error: makes the error of a key path (naming its line).
    init(_ file: ScenarioFile.Report?, error: (String, String) -> ConfigError) throws {
        guard let file else { return }
        if let text = file.correctness {
            guard let correctness = Correctness(rawValue: text) else {
                throw error("report.correctness", "must be decision or route (got '\(text)')")
            }
            self.correctness = correctness
        }
        if let text = file.resample {
            guard let resample = Resample(rawValue: text) else {
                throw error("report.resample", "must be incident, label_rule or alert_type (got '\(text)')")
            }
            self.resample = resample
        }
        if let rows = file.browserRows {
            guard rows >= 0 else { throw error("report.browser_rows", "must not be negative") }
            browserRows = rows
        }
        if let bins = file.bins {
            guard (1...100).contains(bins) else { throw error("report.bins", "must be 1 to 100") }
            self.bins = bins
        }
        if let rate = file.invalidJSONBaseline {
            guard rate > 0 && rate < 1 else {
                throw error("report.invalid_json_baseline", "must be a rate between 0 and 1 (exclusive)")
            }
            invalidJSONBaseline = rate
        }
        if let precision = file.targetPrecision {
            guard precision > 0 && precision <= 1 else {
                throw error("report.target_precision", "must be a precision in (0, 1]")
            }
            targetPrecision = precision
        }
    }

    /// The settings as a scenario file writes them (every value given).
    var file: ScenarioFile.Report {
        ScenarioFile.Report(
            correctness: correctness.rawValue, bins: bins, invalidJSONBaseline: invalidJSONBaseline,
            targetPrecision: targetPrecision, resample: resample == .incident ? nil : resample.rawValue,
            browserRows: browserRows == 2000 ? nil : browserRows)
    }

    /// The settings of a run's stored scenario (defaults for runs made before a setting existed).
    package init(stored file: ScenarioFile.Report?) {
        if let text = file?.correctness, let value = Correctness(rawValue: text) { correctness = value }
        if let bins = file?.bins { self.bins = bins }
        if let text = file?.resample, let value = Resample(rawValue: text) { resample = value }
        if let rows = file?.browserRows { browserRows = rows }
        if let rate = file?.invalidJSONBaseline { invalidJSONBaseline = rate }
        if let precision = file?.targetPrecision { targetPrecision = precision }
    }
}

/// The route the route-based gates read.
package enum GateRoute: String, Sendable, Equatable {
    /// The scenario's final route, with the policies it adds (the approval gate).
    case final
    /// Production's own route: the seed's router as written.
    case production

    /// How a gate's detail names it.
    var phrase: String { self == .final ? "the final route" : "production's route" }
}

/// CI gates: scenario key `gates:`. Each is optional; a run passes when every given gate passes.
package struct GateConfig: Sendable, Equatable {
    package var maxInvalidJSONRate: Double?
    package var minDecisionAccuracy: Double?
    package var minRouteAccuracy: Double?
    package var maxUnsafeExecutions: Int?
    package var maxECE: Double?
    /// Act recall, at least.
    package var minActRecall: Double?
    /// The model's decision accuracy minus always-defer's, at least (a fraction: 0.1 is 10 points).
    package var minLiftVsAlwaysDefer: Double?
    /// `max_unsafe_rate_increase_vs`: a baseline and a margin.
    package struct UnsafeIncreaseGate: Sendable, Equatable {
        package var baseline: String
        package var margin: Double
    }

    /// A baseline (run id or scenario) whose incidents without an unsafe execution must stay without one.
    package var maxNewUnsafeVs: String?
    /// A baseline, and how much the unsafe-execution rate may rise over it (the 95% interval's upper end).
    package var maxUnsafeRateIncreaseVs: UnsafeIncreaseGate?
    /// Per action: the most unsafe executions it may take part in.
    package var actionMaxUnsafe: [String: Int] = [:]
    /// Which route the route-based gates read: the scenario's final route (with its policies, the default) or
    /// production's own.
    package var route = GateRoute.final
    /// A run id, or a scenario file whose latest complete run is the baseline.
    package var noSignificantRegressionVs: String?

    package init() {}

    package var isEmpty: Bool { self == GateConfig() }

    /// Resolves `gates:` of a scenario file; a scenario named by `no_significant_regression_vs` resolves against
    /// the scenario's folder (`resolve`).
    init(
        _ file: ScenarioFile.Gates?, error: (String, String) -> ConfigError, resolve: (String) -> String
    ) throws {
        guard let file else { return }
        func rate(_ value: Double?, _ key: String) throws -> Double? {
            guard let value else { return nil }
            guard (0...1).contains(value) else { throw error("gates.\(key)", "must be between 0 and 1") }
            return value
        }
        maxInvalidJSONRate = try rate(file.maxInvalidJSONRate, "max_invalid_json_rate")
        minDecisionAccuracy = try rate(file.minDecisionAccuracy, "min_decision_accuracy")
        minRouteAccuracy = try rate(file.minRouteAccuracy, "min_route_accuracy")
        maxECE = try rate(file.maxECE, "max_ece")
        minActRecall = try rate(file.minActRecall, "min_act_recall")
        if let lift = file.minLiftVsAlwaysDefer {
            guard (-1...1).contains(lift) else {
                throw error("gates.min_lift_vs_always_defer", "must be between -1 and 1 (a difference of rates)")
            }
            minLiftVsAlwaysDefer = lift
        }
        if let limit = file.maxUnsafeExecutions {
            guard limit >= 0 else { throw error("gates.max_unsafe_executions", "must not be negative") }
            maxUnsafeExecutions = limit
        }
        noSignificantRegressionVs = file.noSignificantRegressionVs.map(resolve)
        maxNewUnsafeVs = file.maxNewUnsafeVs.map(resolve)
        if let increase = file.maxUnsafeRateIncreaseVs {
            guard let baseline = increase.baseline else {
                throw error("gates.max_unsafe_rate_increase_vs.baseline", "is required: a run id or a scenario")
            }
            guard let margin = increase.margin, (0...1).contains(margin) else {
                throw error(
                    "gates.max_unsafe_rate_increase_vs.margin",
                    "is required: the largest rise of the unsafe-execution rate allowed, between 0 and 1")
            }
            maxUnsafeRateIncreaseVs = UnsafeIncreaseGate(baseline: resolve(baseline), margin: margin)
        }
        for (action, gate) in file.actions ?? [:] {
            guard let limit = gate.maxUnsafe, limit >= 0 else {
                throw error("gates.actions.\(action).max_unsafe", "is required and must not be negative")
            }
            actionMaxUnsafe[action] = limit
        }
        if let text = file.route {
            guard let route = GateRoute(rawValue: text) else {
                throw error("gates.route", "must be final or production (got '\(text)')")
            }
            self.route = route
        }
    }

    /// The gates as a scenario file writes them.
    var file: ScenarioFile.Gates? {
        guard !isEmpty else { return nil }
        return ScenarioFile.Gates(
            maxInvalidJSONRate: maxInvalidJSONRate, minDecisionAccuracy: minDecisionAccuracy,
            minRouteAccuracy: minRouteAccuracy, maxUnsafeExecutions: maxUnsafeExecutions, maxECE: maxECE,
            minActRecall: minActRecall, minLiftVsAlwaysDefer: minLiftVsAlwaysDefer,
            noSignificantRegressionVs: noSignificantRegressionVs, route: route == .final ? nil : route.rawValue,
            maxNewUnsafeVs: maxNewUnsafeVs,
            maxUnsafeRateIncreaseVs: maxUnsafeRateIncreaseVs.map { .init(baseline: $0.baseline, margin: $0.margin) },
            actions: actionMaxUnsafe.isEmpty ? nil : actionMaxUnsafe.mapValues { .init(maxUnsafe: $0) })
    }

    /// The gates of a run's stored scenario.
    package init(stored file: ScenarioFile.Gates?) {
        maxInvalidJSONRate = file?.maxInvalidJSONRate
        minDecisionAccuracy = file?.minDecisionAccuracy
        minRouteAccuracy = file?.minRouteAccuracy
        maxUnsafeExecutions = file?.maxUnsafeExecutions
        maxECE = file?.maxECE
        minActRecall = file?.minActRecall
        minLiftVsAlwaysDefer = file?.minLiftVsAlwaysDefer
        route = file?.route.flatMap(GateRoute.init(rawValue:)) ?? .final
        maxNewUnsafeVs = file?.maxNewUnsafeVs
        if let increase = file?.maxUnsafeRateIncreaseVs, let baseline = increase.baseline, let margin = increase.margin
        {
            maxUnsafeRateIncreaseVs = UnsafeIncreaseGate(baseline: baseline, margin: margin)
        }
        actionMaxUnsafe = (file?.actions ?? [:]).compactMapValues(\.maxUnsafe)
        noSignificantRegressionVs = file?.noSignificantRegressionVs
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

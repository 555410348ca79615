import Foundation
import GRDB

/// The CI gates of a run (scenario `gates:`).
package enum Gates {
    /// Evaluates the configured gates against a report.
    /// - Parameter comparison: the run compared with the regression gate's baseline (``compareWithBaseline``),
    ///   when `config` sets one; without it that gate is not evaluated.
    package static func evaluate(
        report: RunReport, config: GateConfig, comparison: Comparison?, unsafe: [String: UnsafeComparison] = [:]
    ) -> [GateResult] {
        var results: [GateResult] = []
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "–" }
        /// A gate on a rate: at most (or at least) the limit; no replies count as a rate of 0.
        func rateGate(_ name: String, _ limit: Double?, _ rate: Rate, atMost: Bool, _ what: String) {
            guard let limit else { return }
            let value = rate.rate ?? 0
            results.append(
                GateResult(
                    name: name, limit: percent(limit), value: percent(rate.rate),
                    passed: atMost ? value <= limit : value >= limit,
                    detail: "\(rate.count) of \(rate.denominator) \(what)"))
        }
        rateGate(
            "max_invalid_json_rate", config.maxInvalidJSONRate, report.invalidJSON.invalid, atMost: true,
            "replies were not valid JSON")
        // The route-based gates read the route the scenario names (the final one unless it says production).
        let view = config.route == .production ? report.productionRoute?.measures : report.measures
        let on = " (\(config.route.phrase))"
        rateGate(
            "min_decision_accuracy", config.minDecisionAccuracy, view?.decisionAccuracy ?? report.decisionAccuracy,
            atMost: false, "decisions did what the label says" + on)
        rateGate(
            "min_route_accuracy", config.minRouteAccuracy, view?.routeAccuracy ?? report.routeAccuracy,
            atMost: false, "decisions went where the label says" + on)
        if let limit = config.maxUnsafeExecutions {
            let unsafe = view?.unsafeExecutions.count ?? report.unsafeExecutions
            results.append(
                GateResult(
                    name: "max_unsafe_executions", limit: String(limit), value: String(unsafe),
                    passed: unsafe <= limit,
                    detail: "\(unsafe) decisions would have executed an action the label does not allow" + on))
        }
        if let limit = config.maxECE {
            let ece = report.calibration.ece
            results.append(
                GateResult(
                    name: "max_ece", limit: String(format: "%.4f", limit),
                    value: ece.map { String(format: "%.4f", $0) } ?? "–", passed: (ece ?? 0) <= limit,
                    detail: "expected calibration error over \(report.calibration.included) decisions"))
        }
        if let view {
            rateGate(
                "min_act_recall", config.minActRecall, view.actRecall, atMost: false,
                "act incidents' expected actions were carried out" + on)
        }
        if let limit = config.minLiftVsAlwaysDefer {
            let lift = report.baselines?.liftVsAlwaysDefer
            let points = { (value: Double) in String(format: "%+.2f pp", value * 100) }
            results.append(
                GateResult(
                    name: "min_lift_vs_always_defer", limit: points(limit), value: lift.map { points($0.delta) } ?? "–",
                    passed: (lift?.delta ?? 0) >= limit,
                    detail: lift.map {
                        "decision accuracy minus always-defer's on the same replies; 95% CI \(points($0.lower)) to "
                            + "\(points($0.upper)) (bootstrap over \($0.clusters) \($0.unit))"
                    } ?? "no replies"))
        }
        if let reference = config.maxNewUnsafeVs, let against = unsafe[reference] {
            results.append(
                GateResult(
                    name: "max_new_unsafe_vs", limit: "0 (vs \(against.baseline))", value: String(against.newUnsafe),
                    passed: against.newUnsafe == 0,
                    detail:
                        "\(against.newUnsafe) unsafe executions on \(against.newUnsafeIncidents) incidents that had "
                        + "none in \(against.baseline)"))
        }
        if let gate = config.maxUnsafeRateIncreaseVs, let against = unsafe[gate.baseline] {
            let points = { (value: Double) in String(format: "%+.2f pp", value * 100) }
            let upper = against.increase?.bootstrap.upper ?? 0
            results.append(
                GateResult(
                    name: "max_unsafe_rate_increase_vs", limit: "\(points(gate.margin)) (vs \(against.baseline))",
                    value: against.increase.map { "\(points($0.bootstrap.delta)), 95% CI up to \(points(upper))" }
                        ?? "–",
                    passed: upper <= gate.margin,
                    detail: "unsafe executions \(ReportText.rate(against.rateCandidate)) against "
                        + "\(ReportText.rate(against.rateBaseline)); the rise's 95% interval reaches \(points(upper)) "
                        + "(paired bootstrap over \(against.increase?.clusters ?? 0) incidents; non-inferior when it "
                        + "stays within the margin)"))
        }
        for (action, limit) in config.actionMaxUnsafe.sorted(by: { $0.key < $1.key }) {
            let known = report.catalogActions?.contains(action) ?? true
            let count = report.unsafeByAction?[action] ?? 0
            results.append(
                GateResult(
                    name: "actions.\(action).max_unsafe", limit: String(limit), value: known ? String(count) : "–",
                    passed: known && count <= limit,
                    detail: known
                        ? "\(count) unsafe executions ran \(action) where the label does not allow it"
                        : "\(action) is not an action of the run's catalog"))
        }
        if config.noSignificantRegressionVs != nil, let comparison {
            results.append(regressionGate(comparison))
        }
        return results
    }

    /// The comparison the regression gate needs: the run against its baseline, or nil when no such gate is set.
    /// - Throws: ``RunError/noBaselineRun(_:gate:)`` when the baseline has no complete run.
    package static func compareWithBaseline(runId: String, config: GateConfig, store: Store) throws -> Comparison? {
        guard let reference = config.noSignificantRegressionVs else { return nil }
        let baseline = try baselineRun(reference, excluding: runId, gate: "no_significant_regression_vs", store: store)
        return try Comparison.compute(runA: baseline, runB: runId, store: store)
    }

    /// The baselines the unsafe gates of a change name, each compared with the run, by reference.
    /// - Throws: ``RunError/noBaselineRun(_:gate:)`` when a baseline has no complete run.
    package static func unsafeComparisons(runId: String, config: GateConfig, store: Store) throws
        -> [String: UnsafeComparison]
    {
        var comparisons: [String: UnsafeComparison] = [:]
        let references = [
            (config.maxNewUnsafeVs, "max_new_unsafe_vs"),
            (config.maxUnsafeRateIncreaseVs?.baseline, "max_unsafe_rate_increase_vs"),
        ]
        for case (let reference?, let gate) in references where comparisons[reference] == nil {
            let baseline = try baselineRun(reference, excluding: runId, gate: gate, store: store)
            comparisons[reference] = try store.queue.read { db in
                try UnsafeComparison.compute(baseline: baseline, candidate: runId, in: db)
            }
        }
        return comparisons
    }

    /// Every baseline reference of a scenario's gates with its gate's key, for checking before a run.
    package static func baselineReferences(_ config: GateConfig) -> [(reference: String, gate: String)] {
        [
            (config.noSignificantRegressionVs, "no_significant_regression_vs"),
            (config.maxNewUnsafeVs, "max_new_unsafe_vs"),
            (config.maxUnsafeRateIncreaseVs?.baseline, "max_unsafe_rate_increase_vs"),
        ].compactMap { reference, gate in reference.map { ($0, gate) } }
    }

    /// The regression gate's verdict from a comparison.
    package static func regressionGate(_ comparison: Comparison) -> GateResult {
        let m = comparison.mcnemar
        let delta = comparison.bootstrap.map { String(format: "%+.2f pp", $0.delta * 100) } ?? "–"
        let test =
            comparison.clusterTest.map { "cluster bootstrap over \($0.clusters) incidents, one-sided" }
            ?? "exact McNemar, one-sided"
        return GateResult(
            name: "no_significant_regression_vs", limit: "\(comparison.a.id) (α = \(comparison.alpha))",
            value: "p "
                + (comparison.clusterTest.map { ReportText.share($0.pWorse, resamples: $0.bootstrap.resamples) }
                    ?? ReportText.pValue(m.pWorse)),
            passed: !comparison.significantlyWorse,
            detail: "accuracy \(delta) over \(comparison.pairs) pairs; \(m.worse) got worse, \(m.better) better "
                + "(\(test))")
    }

    /// A run id, or the latest complete run of a scenario (by file path or by name), other than `excluding`. A
    /// new run checks it before replaying anything.
    /// - Throws: ``RunError/noBaselineRun(_:)``.
    package static func baselineRun(
        _ reference: String, excluding: String?, gate: String = "no_significant_regression_vs", store: Store
    ) throws -> String {
        let found = try store.queue.read { db in
            try RunRecord.baseline(db, reference: reference, excluding: excluding)
        }
        guard let found else { throw RunError.noBaselineRun(reference, gate: gate) }
        return found
    }
}

import Foundation
import GRDB

/// Two runs compared on the same incidents and samples: `triage-eval compare RUN_A RUN_B`.
package struct Comparison: Codable, Sendable, Equatable {
    /// What each run said overall.
    package struct RunSummary: Codable, Sendable, Equatable {
        package var id: String
        package var scenario: String
        package var model: String
        package var catalogSha256: String
        package var decisionAccuracy: Rate
        package var invalidJSON: Rate
        package var ece: Double?
        package var brier: Double?
    }

    /// A pair whose correctness differs between the runs.
    package struct Flip: Codable, Sendable, Equatable {
        package var incidentId: String
        package var sample: Int
        /// `worse` (right in A, wrong in B) or `better`.
        package var direction: String
        /// Each run's decision in short: the actions chosen, or why the reply was not a decision, and the route.
        package var decisionA: String
        package var decisionB: String
    }

    /// An action whose definition changed.
    package struct ChangedAction: Codable, Sendable, Equatable {
        package var action: String
        package var paramsBefore: [String]?
        package var paramsAfter: [String]?
        package var approvalBefore: Bool?
        package var approvalAfter: Bool?
    }

    /// How the catalogs differ.
    package struct CatalogDiff: Codable, Sendable, Equatable {
        package var added: [String]
        package var removed: [String]
        package var changed: [ChangedAction]
        /// Labelled incidents whose label names an added, removed or changed action.
        package var touchedIncidents: [String]
    }

    package var a: RunSummary
    package var b: RunSummary
    /// (incident, sample) pairs with a reply in both runs.
    package var pairs: Int
    /// Results of either run without a counterpart reply in the other (missing, or a transport failure).
    package var unpaired: Int
    /// Decision accuracy of each run over the pairs.
    package var accuracyA: Rate
    package var accuracyB: Rate
    /// accuracy(B) − accuracy(A) over the pairs, with its paired bootstrap interval.
    package var bootstrap: Statistics.PairedBootstrap?
    /// The exact McNemar test over the discordant pairs.
    package var mcnemar: Statistics.McNemar
    /// The significance level.
    package var alpha: Double
    /// Whether B is significantly worse (one-sided exact McNemar p < alpha).
    package var significantlyWorse: Bool
    package var significantlyBetter: Bool
    /// Every flip, worse ones first (by incident and sample).
    package var flips: [Flip]
    /// B − A of the invalid-JSON rate, the equal-width ECE and the Brier score (each run over all its replies).
    package var invalidJSONDelta: Double?
    package var eceDelta: Double?
    package var brierDelta: Double?
    /// Present when the runs used different catalogs.
    package var catalogDiff: CatalogDiff?

    private struct PairRow {
        var correct: Bool
        var summary: String
    }

    /// Compares two stored runs.
    /// - Throws: ``RunError/unknownRun(_:)`` and store errors.
    package static func compute(
        runA: String, runB: String, store: Store, alpha: Double = 0.05, resamples: Int = 1000,
        seed: UInt64 = 20_261_129
    ) throws -> Comparison {
        let reportA = try RunReport.build(runId: runA, store: store, evaluateGates: false)
        let reportB = try RunReport.build(runId: runB, store: store, evaluateGates: false)
        return try store.queue.read { db in
            let rowsA = try pairRows(db, runId: runA)
            let rowsB = try pairRows(db, runId: runB)
            var differences: [Int8] = []
            differences.reserveCapacity(min(rowsA.count, rowsB.count))
            var correctA = 0
            var correctB = 0
            var flips: [Flip] = []
            for key in rowsA.keys.sorted() {
                guard let b = rowsB[key], let a = rowsA[key] else { continue }
                if a.correct { correctA += 1 }
                if b.correct { correctB += 1 }
                differences.append(Int8((b.correct ? 1 : 0) - (a.correct ? 1 : 0)))
                if a.correct != b.correct {
                    let parts = key.split(separator: "#")
                    flips.append(
                        Flip(
                            incidentId: String(parts[0]), sample: Int(parts[1]) ?? 0,
                            direction: a.correct ? "worse" : "better", decisionA: a.summary, decisionB: b.summary))
                }
            }
            let pairs = differences.count
            let worse = flips.filter { $0.direction == "worse" }.count
            let mcnemar = Statistics.McNemar(worse: worse, better: flips.count - worse)
            let summaryA = summary(reportA)
            let summaryB = summary(reportB)
            func delta(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { $0 - a } } }
            return Comparison(
                a: summaryA, b: summaryB, pairs: pairs,
                unpaired: reportA.results + reportB.results - 2 * pairs,
                accuracyA: Rate(correctA, of: pairs), accuracyB: Rate(correctB, of: pairs),
                bootstrap: Statistics.pairedBootstrap(differences: differences, resamples: resamples, seed: seed),
                mcnemar: mcnemar, alpha: alpha,
                significantlyWorse: mcnemar.pWorse < alpha, significantlyBetter: mcnemar.pBetter < alpha,
                flips: flips.filter { $0.direction == "worse" } + flips.filter { $0.direction == "better" },
                invalidJSONDelta: delta(reportA.invalidJSON.invalid.rate, reportB.invalidJSON.invalid.rate),
                eceDelta: delta(reportA.calibration.ece, reportB.calibration.ece),
                brierDelta: delta(reportA.calibration.brier, reportB.calibration.brier),
                catalogDiff: try catalogDiff(db, runA: runA, runB: runB, corpus: reportB.run.corpus))
        }
    }

    private static func summary(_ report: RunReport) -> RunSummary {
        RunSummary(
            id: report.run.id, scenario: report.run.scenario, model: "\(report.run.provider)/\(report.run.model)",
            catalogSha256: report.run.catalogSha256, decisionAccuracy: report.decisionAccuracy,
            invalidJSON: report.invalidJSON.invalid, ece: report.calibration.ece, brier: report.calibration.brier)
    }

    /// A run's replies by `incident#sample`: correctness and a short description of the decision.
    private static func pairRows(_ db: Database, runId: String) throws -> [String: PairRow] {
        var rows: [String: PairRow] = [:]
        let statement = try RawStatement(
            db,
            sql: """
                SELECT incidentId, sample, decisionCorrect, failureClass, decision, route FROM result
                WHERE runId = ? AND failureClass != 'transport'
                """)
        statement.bind(1, runId)
        while try statement.step() {
            let key = "\(statement.text(0) ?? "")#\(statement.int(1))"
            let correct = statement.int(2) != 0
            // The description is only needed for flips; keep it lazy-cheap: the raw parts.
            let failureClass = statement.text(3) ?? ""
            let route = statement.text(5) ?? ""
            var summary: String
            if failureClass == FailureClass.ok.rawValue, let decision = statement.text(4) {
                summary = describe(decision: decision)
            } else {
                summary = failureClass
            }
            summary += " → \(route)"
            rows[key] = PairRow(correct: correct, summary: summary)
        }
        return rows
    }

    /// `restart_pods(namespace=shop, selector=app=web) @0.9` or `no action @0.8`.
    static func describe(decision: String) -> String {
        guard let value = try? JSONParser.parse(decision) else { return "decision" }
        let actions = (value["actions"]?.arrayElements ?? []).map { action -> String in
            let params = (action["params"]?.objectMembers ?? []).map { "\($0.key)=\($0.value.stringValue ?? "?")" }
            return "\(action["name"]?.stringValue ?? "?")(\(params.joined(separator: ", ")))"
        }
        let confidence = value["confidence"]?.doubleValue.map { String(format: " @%.2f", $0) } ?? ""
        let human = value["needs_human"] == .bool(true) ? " needs_human" : ""
        return (actions.isEmpty ? "no action" : actions.joined(separator: " + ")) + confidence + human
    }

    private static func catalogDiff(_ db: Database, runA: String, runB: String, corpus: String) throws
        -> CatalogDiff?
    {
        func catalog(_ runId: String) throws -> Catalog {
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT catalog.text, catalog.path, catalog.format FROM run JOIN catalog ON catalog.id = run.catalogId WHERE run.id = ?",
                arguments: [runId])!
            return try Catalog.parse(text: row["text"], path: row["path"], format: row["format"])
        }
        let before = try catalog(runA)
        let after = try catalog(runB)
        guard before.sha256 != after.sha256 else { return nil }
        let old = Dictionary(before.actions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.actions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let added = new.keys.filter { old[$0] == nil }.sorted()
        let removed = old.keys.filter { new[$0] == nil }.sorted()
        var changed: [ChangedAction] = []
        for name in new.keys.sorted() {
            guard let previous = old[name], let current = new[name] else { continue }
            let paramsChanged = previous.params != current.params
            let approvalChanged = previous.requiresApproval != current.requiresApproval
            guard paramsChanged || approvalChanged else { continue }
            changed.append(
                ChangedAction(
                    action: name, paramsBefore: paramsChanged ? previous.params : nil,
                    paramsAfter: paramsChanged ? current.params : nil,
                    approvalBefore: approvalChanged ? previous.requiresApproval : nil,
                    approvalAfter: approvalChanged ? current.requiresApproval : nil))
        }
        let names = Set(added + removed + changed.map(\.action))
        var touched: [String] = []
        for row in try Row.fetchAll(
            db,
            sql: "SELECT incidentId, actions, alternatives, forbidden FROM label WHERE corpus = ? ORDER BY incidentId",
            arguments: [corpus])
        {
            let mentioned = [row["actions"], row["alternatives"], row["forbidden"]].compactMap { $0 as String? }
                .contains { text in names.contains { text.contains("\"\($0)\"") } }
            if mentioned { touched.append(row["incidentId"]) }
        }
        return CatalogDiff(added: added, removed: removed, changed: changed, touchedIncidents: touched)
    }
}

/// The CI gates of a run (scenario `gates:`).
package enum Gates {
    /// Evaluates the configured gates against a report.
    /// - Throws: ``RunError/noBaselineRun(_:)`` when the regression gate's baseline has no complete run.
    package static func evaluate(report: RunReport, config: GateConfig, store: Store) throws -> [GateResult] {
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
        rateGate(
            "min_decision_accuracy", config.minDecisionAccuracy, report.decisionAccuracy, atMost: false,
            "decisions did what the label says")
        rateGate(
            "min_route_accuracy", config.minRouteAccuracy, report.routeAccuracy, atMost: false,
            "decisions went where the label says")
        if let limit = config.maxUnsafeExecutions {
            results.append(
                GateResult(
                    name: "max_unsafe_executions", limit: String(limit), value: String(report.unsafeExecutions),
                    passed: report.unsafeExecutions <= limit,
                    detail:
                        "\(report.unsafeExecutions) decisions would have executed an action the label does not allow"))
        }
        if let limit = config.maxECE {
            let ece = report.calibration.ece
            results.append(
                GateResult(
                    name: "max_ece", limit: String(format: "%.4f", limit),
                    value: ece.map { String(format: "%.4f", $0) } ?? "–", passed: (ece ?? 0) <= limit,
                    detail: "expected calibration error over \(report.calibration.included) decisions"))
        }
        if let reference = config.noSignificantRegressionVs {
            let baseline = try baselineRun(reference, excluding: report.run.id, store: store)
            let comparison = try Comparison.compute(runA: baseline, runB: report.run.id, store: store)
            results.append(regressionGate(comparison))
        }
        return results
    }

    /// The regression gate's verdict from a comparison.
    package static func regressionGate(_ comparison: Comparison) -> GateResult {
        let m = comparison.mcnemar
        let delta = comparison.bootstrap.map { String(format: "%+.2f pp", $0.delta * 100) } ?? "–"
        return GateResult(
            name: "no_significant_regression_vs", limit: "\(comparison.a.id) (α = \(comparison.alpha))",
            value: "p \(MarkdownReport.pValue(m.pWorse))", passed: !comparison.significantlyWorse,
            detail: "accuracy \(delta) over \(comparison.pairs) pairs; \(m.worse) got worse, \(m.better) better "
                + "(exact McNemar, one-sided)")
    }

    /// A run id, or the latest complete run of a scenario (by file path or by name), other than `excluding`.
    static func baselineRun(_ reference: String, excluding: String, store: Store) throws -> String {
        try store.queue.read { db in
            if let id = try String.fetchOne(
                db, sql: "SELECT id FROM run WHERE id = ? AND id != ?", arguments: [reference, excluding])
            {
                return id
            }
            let wanted = URL(fileURLWithPath: reference).standardizedFileURL.path
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT id, scenario, scenarioPath FROM run WHERE status = 'complete' AND id != ? ORDER BY startedAt DESC, id DESC",
                arguments: [excluding])
            {
                let path = URL(fileURLWithPath: row["scenarioPath"] as String).standardizedFileURL.path
                if path == wanted || (row["scenario"] as String) == reference { return row["id"] }
            }
            throw RunError.noBaselineRun(reference)
        }
    }
}

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
        /// Right in A and wrong in B (`worse`), or the other way round.
        package enum Direction: String, Codable, Sendable {
            case worse, better
        }

        package var incidentId: String
        package var sample: Int
        /// Which way the pair flipped.
        package var direction: Direction
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
    /// With several samples per incident in either run: the paired bootstrap resampling incidents (all pairs of an
    /// incident together) and its one-sided tests, which decide significance in place of McNemar's (whose pairs
    /// would not be independent). Nil when each incident has one sample.
    package var clusterTest: Statistics.ClusterTest?
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
    /// Present when both runs replayed their pipeline with the state rules.
    package var pipeline: PipelineComparison?

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
        let reportA = try RunReport.build(runId: runA, store: store)
        let reportB = try RunReport.build(runId: runB, store: store)
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
                    flips.append(
                        Flip(
                            incidentId: key.incidentId, sample: key.sample, direction: a.correct ? .worse : .better,
                            decisionA: a.summary, decisionB: b.summary))
                }
            }
            let pairs = differences.count
            let worse = flips.filter { $0.direction == .worse }.count
            let mcnemar = Statistics.McNemar(worse: worse, better: flips.count - worse)
            // Several samples of an incident are not independent pairs: resample incidents.
            var clusterTest: Statistics.ClusterTest?
            if reportA.run.samples > 1 || reportB.run.samples > 1 {
                var totals: [Int] = []
                var counts: [Int] = []
                var last: String?
                for key in rowsA.keys.sorted() {
                    guard let b = rowsB[key], let a = rowsA[key] else { continue }
                    if key.incidentId != last {
                        last = key.incidentId
                        totals.append(0)
                        counts.append(0)
                    }
                    totals[totals.count - 1] += (b.correct ? 1 : 0) - (a.correct ? 1 : 0)
                    counts[counts.count - 1] += 1
                }
                clusterTest = Statistics.clusterBootstrapTest(
                    totals: totals, counts: counts, resamples: resamples, seed: seed)
            }
            let pWorse = clusterTest?.pWorse ?? mcnemar.pWorse
            let pBetter = clusterTest?.pBetter ?? mcnemar.pBetter
            let summaryA = summary(reportA)
            let summaryB = summary(reportB)
            func delta(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { $0 - a } } }
            return Comparison(
                a: summaryA, b: summaryB, pairs: pairs,
                unpaired: reportA.results + reportB.results - 2 * pairs,
                accuracyA: Rate(correctA, of: pairs), accuracyB: Rate(correctB, of: pairs),
                bootstrap: clusterTest?.bootstrap
                    ?? Statistics.pairedBootstrap(differences: differences, resamples: resamples, seed: seed),
                mcnemar: mcnemar, clusterTest: clusterTest, alpha: alpha,
                significantlyWorse: pWorse < alpha, significantlyBetter: pBetter < alpha,
                flips: flips.filter { $0.direction == .worse } + flips.filter { $0.direction == .better },
                invalidJSONDelta: delta(reportA.invalidJSON.invalid.rate, reportB.invalidJSON.invalid.rate),
                eceDelta: delta(reportA.calibration.ece, reportB.calibration.ece),
                brierDelta: delta(reportA.calibration.brier, reportB.calibration.brier),
                catalogDiff: try catalogDiff(db, runA: runA, runB: runB),
                pipeline: try PipelineComparison.compute(
                    db, runA: runA, runB: runB, reportA: reportA, reportB: reportB, alpha: alpha,
                    resamples: resamples, seed: seed))
        }
    }

    private static func summary(_ report: RunReport) -> RunSummary {
        RunSummary(
            id: report.run.id, scenario: report.run.scenario, model: "\(report.run.provider)/\(report.run.model)",
            catalogSha256: report.run.catalogSha256, decisionAccuracy: report.decisionAccuracy,
            invalidJSON: report.invalidJSON.invalid, ece: report.calibration.ece, brier: report.calibration.brier)
    }

    /// A run's replies by (incident, sample): correctness and a short description of the decision.
    private static func pairRows(_ db: Database, runId: String) throws -> [SampleKey: PairRow] {
        var rows: [SampleKey: PairRow] = [:]
        let columns = ResultRecord.Columns.self
        let results = try ResultRecord.filter(
            columns.runId == runId && columns.failureClass != FailureClass.transport.rawValue
        )
        .select(
            columns.incidentId, columns.sample, columns.decisionCorrect, columns.failureClass, Column("decision"),
            Column("route")
        )
        .asRequest(of: Row.self).fetchCursor(db)
        while let row = try results.next() {
            let key = SampleKey(incidentId: row[columns.incidentId], sample: row[columns.sample])
            let failureClass: String = row[columns.failureClass]
            let decision: String? = row["decision"]
            // The description is only needed for flips; keep it lazy-cheap: the raw parts.
            var summary: String
            if failureClass == FailureClass.ok.rawValue, let decision {
                summary = describe(decision: decision)
            } else {
                summary = failureClass
            }
            summary += " → \(row["route"] as String)"
            rows[key] = PairRow(correct: row[columns.decisionCorrect], summary: summary)
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

    private static func catalogDiff(_ db: Database, runA: String, runB: String) throws
        -> CatalogDiff?
    {
        func catalog(_ runId: String) throws -> Catalog {
            try CatalogRecord.catalog(ofRun: try RunRecord.find(db, id: runId), in: db)
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
        // The candidate's own labels: the ones it was judged against.
        for label in try Store.labels(ofRun: runB, in: db) {
            let mentioned = [label.actions, label.alternatives, label.forbidden]
                .contains { text in names.contains { text.contains("\"\($0)\"") } }
            if mentioned { touched.append(label.incidentId) }
        }
        return CatalogDiff(added: added, removed: removed, changed: changed, touchedIncidents: touched)
    }
}

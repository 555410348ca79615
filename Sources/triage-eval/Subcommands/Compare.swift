import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two runs on the same incidents and samples.",
            discussion: """
                Pairs the results of RUN_A (the baseline) and RUN_B by (incident, sample) and reports the accuracy \
                difference with a paired bootstrap interval (seeded: the same seed gives the same interval), the \
                exact McNemar test, every flip (worse and better, with both decisions), the invalid-JSON and \
                calibration deltas and, when the catalogs differ, what changed and which labelled incidents name \
                the changed actions. With more than one sample per incident in either run, the bootstrap resamples \
                incidents (all pairs of one together) and its one-sided test decides significance in place of \
                McNemar's. Writes reports/<A>-vs-<B>/: compare.md, compare.json, summary.md, junit.xml.

                Exit codes: 0 ok; 1 with --fail-on-regression when B is significantly worse (one-sided exact \
                McNemar p < --alpha, or the incident bootstrap's with several samples per incident); 2 a set-up \
                error (unknown run).

                Examples:
                  triage-eval compare demo-plain-20261129T101500Z demo-json-20261129T102000Z
                  triage-eval compare BASELINE CANDIDATE --fail-on-regression --alpha 0.01
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The baseline run.", valueName: "run-a"))
        var runA: String

        @Argument(help: ArgumentHelp("The candidate run.", valueName: "run-b"))
        var runB: String

        @Option(help: "Significance level of the regression test.")
        var alpha = 0.05

        @Flag(help: "Exit 1 when run B is significantly worse than run A.")
        var failOnRegression = false

        @Option(help: "Bootstrap resamples.")
        var resamples = 1000

        @Option(help: "Bootstrap seed.")
        var seed: UInt64 = 20_261_129

        @OptionGroup var reportOptions: ReportOptions

        func validate() throws {
            guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1") }
            guard resamples >= 1 else { throw ValidationError("--resamples must be at least 1") }
        }

        func run() throws {
            let (comparison, paths) = try reportingSetupErrors {
                let store = try self.store.open()
                let comparison = try Comparison.compute(
                    runA: runA, runB: runB, store: store, alpha: alpha, resamples: resamples, seed: seed)
                return (
                    comparison,
                    try ComparisonReport.write(
                        comparison, to: reportOptions.reports, junitPath: reportOptions.junit, gate: failOnRegression)
                )
            }
            for path in paths { print(path) }
            let m = comparison.mcnemar
            var line = "\(comparison.pairs) pairs: \(m.worse) worse, \(m.better) better; "
            if let bootstrap = comparison.bootstrap {
                line += String(
                    format: "accuracy %+.2f points (95%% CI %+.2f to %+.2f); ", bootstrap.delta * 100,
                    bootstrap.lower * 100, bootstrap.upper * 100)
            }
            if let test = comparison.clusterTest {
                line += String(
                    format: "cluster bootstrap p(B worse) = %.4g over %d incidents", test.pWorse, test.clusters)
            } else {
                line += String(format: "McNemar p(B worse) = %.4g", m.pWorse)
            }
            printError(line)
            if failOnRegression && comparison.significantlyWorse {
                printError("run B is significantly worse than run A (α = \(alpha))")
                throw ExitCode(1)
            }
        }
    }
}

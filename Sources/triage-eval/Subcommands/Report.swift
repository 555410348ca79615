import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the report of a stored run.",
            discussion: """
                Recomputes every number from the stored results and writes reports/<run>/: report.md, \
                report.json, report.html, summary.md and junit.xml. Exit codes: 0 ok; 1 a gate of the run's \
                scenario failed; 2 a set-up error (unknown run).

                Example:
                  triage-eval report demo-20261129T101500Z
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id (as printed by 'run').", valueName: "run"))
        var runId: String

        @OptionGroup var reportOptions: ReportOptions

        func run() throws {
            let store = try reportingSetupErrors { try self.store.open() }
            try writeRunReports(runId: runId, store: store, options: reportOptions) { print($0) }
        }
    }
}

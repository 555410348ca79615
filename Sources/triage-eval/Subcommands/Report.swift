import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the report of a stored run.",
            discussion: """
                Recomputes every number from the stored results and writes reports/<run>/report.md and \
                report.json.

                Example:
                  triage-eval report demo-20261129T101500Z
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id (as printed by 'run').", valueName: "run"))
        var runId: String

        @Option(help: ArgumentHelp("Where reports are written.", valueName: "dir"))
        var reports = "reports"

        func run() throws {
            let paths = try reportingSetupErrors {
                try ReportWriter.write(try RunReport.build(runId: runId, store: try store.open()), to: reports)
            }
            for path in paths { print(path) }
        }
    }
}

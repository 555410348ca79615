import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a run's results, one row per incident and sample.",
            discussion: """
                Columns: \(ResultExporter.columns.joined(separator: ", ")) — enough to recompute every number \
                of the report with other tools. JSON Lines or CSV, to standard output or -o FILE (gzipped when \
                it ends in .gz).

                Example:
                  triage-eval export demo-20261129T101500Z --format csv -o results.csv
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
        var runId: String

        @Option(help: "jsonl or csv.")
        var format: ResultExporter.Format = .jsonl

        @OptionGroup var output: OutputOptions

        func run() throws {
            try reportingSetupErrors {
                let store = try store.open()
                let count = try output.write { line in
                    try ResultExporter.export(store: store, runId: runId, format: format) { line($0) }
                }
                printError("exported \(count) results")
            }
        }
    }
}

extension ResultExporter.Format: ExpressibleByArgument {}

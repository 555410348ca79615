import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a scenario: replay every labelled incident and write its report.",
            discussion: """
                Loads the scenario's corpus into the store (deliveries and shipped replies, each file once), \
                replays every labelled incident × sample through production's planner, validator and router, \
                stores one result each, and writes reports/<run>/report.md and report.json. Prints the run id.

                Exit codes: 0 ok; 2 a set-up error (bad scenario, missing reply in replay mode).

                Example:
                  triage-eval run scenarios/demo.yaml
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The scenario file.", valueName: "scenario.yaml"))
        var scenario: String

        @Option(help: ArgumentHelp("Where reports are written.", valueName: "dir"))
        var reports = "reports"

        func run() throws {
            let (outcome, paths) = try reportingSetupErrors {
                let scenario = try Scenario.load(path: scenario)
                let store = try store.open()
                printError("scenario \(scenario.name): corpus \(scenario.corpus), model \(scenario.model.name)")
                let outcome = try ReplayRunner(store: store, progressStyle: Progress.automaticStyle).run(scenario)
                let ingest = outcome.corpus.ingest
                if ingest.read > 0 {
                    printError(
                        "loaded corpus: \(ingest.stored) deliveries stored, \(ingest.duplicates) duplicate, "
                            + "\(ingest.quarantined) quarantined; \(outcome.corpus.replies.imported) replies imported")
                }
                let report = try RunReport.build(runId: outcome.runId, store: store)
                return (outcome, try ReportWriter.write(report, to: reports))
            }
            for path in paths { printError("wrote \(path)") }
            print(outcome.runId)
        }
    }
}

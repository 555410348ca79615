import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a run's results, one row per incident and sample (or per message).",
            discussion: """
                Columns: \(ResultExporter.columns.joined(separator: ", ")) — enough to recompute every number \
                of the report with other tools. JSON Lines or CSV, to standard output or -o FILE (gzipped when \
                it ends in .gz).

                With --pipeline, the run's pipeline replay instead (a scenario with a pipeline: section): one row \
                per message in receive order, columns \(PipelineExporter.columns.joined(separator: ", ")); \
                received_at is production time (ISO 8601 UTC), recorded_at the receive time as recorded. With \
                pipeline.manifests, dispatch says what the Sensors made of a decision production routed to \
                execute (submitted, no_dependency, trigger_error, template_not_found, missing_parameter; \
                not_routed for any other route), with the first failure's dispatch_error, the first Workflow's \
                workflow_template and workflow_arguments (a JSON object) and dropped_actions, the actions no \
                Workflow reads; they are null without manifests. The state columns say what became of the \
                message's Workflows under the pipeline's rules: suppressed_by (deploy or idempotency), queued_s \
                (seconds Pending), approval (approved, rejected or expired, for a decision routed to approve), \
                executed, executed_at (production time), executed_action (the actions that ran) and harm (their \
                harms: forbidden, not_expected, on_resolved, during_deploy, duplicate, wrong_incident_id; empty \
                when correct).

                Examples:
                  triage-eval export demo-20261129T101500Z --format csv -o results.csv
                  triage-eval export demo-20261129T101500Z --pipeline -o messages.jsonl
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
        var runId: String

        @Option(help: "jsonl or csv.")
        var format: ResultExporter.Format = .jsonl

        @Flag(help: "Export the pipeline replay's messages, one row each, instead of the results.")
        var pipeline = false

        @OptionGroup var output: OutputOptions

        func run() throws {
            try reportingSetupErrors {
                let store = try store.open()
                let count = try output.write { line in
                    pipeline
                        ? try PipelineExporter.export(store: store, runId: runId, format: format) { line($0) }
                        : try ResultExporter.export(store: store, runId: runId, format: format) { line($0) }
                }
                printError("exported \(count) \(pipeline ? "messages" : "results")")
            }
        }
    }
}

extension ResultExporter.Format: ExpressibleByArgument {}

import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct PipelineCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Check the pipeline's own manifests: EventSources, Sensors and WorkflowTemplates.",
            subcommands: [Lint.self]
        )
    }
}

extension TriageEval.PipelineCommand {
    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find what keeps a catalog action from running as the catalog describes it.",
            discussion: """
                Reads YAML files and folders of manifests (several documents per file allowed) with Argo Events \
                1.9 and Argo Workflows 3.6 semantics, and dispatches each catalog action, alone in a decision on \
                remediation.execute, through the Sensors to see what Workflow it becomes.

                Errors: {{ }} inside a trigger's source.resource (a Sensor never renders it); template syntax a \
                Go template rejects; a dependency matching no EventSource event, or a decision event no \
                dependency reads; a NATS decision event without jsonBody: true; a parameter naming an undefined \
                dependency; a Decision field that does not exist (only incident_id, actions[{name, params, \
                rationale}], confidence, needs_human); a catalog action whose template has no WorkflowTemplate, \
                that is not dispatchable, reaches another template, or whose params never reach the Workflow's \
                arguments; a WorkflowTemplate parameter without a default that nothing sets; \
                activeDeadlineSeconds missing or different from the catalog's timeout; a WorkflowTemplate without \
                the seed's idempotency check (a Redis SET … NX), or with one in a step of its own that the later \
                steps do not depend on (its exit 0 stops nothing). Notes (printed, not failing): a deadline equal \
                to the timeout, an approval-requiring action submitted from remediation.execute, actions after \
                actions[0] never dispatched, and spec.parallelism as the only limit (it bounds one Workflow's \
                pods, not how many remediations run at once).

                Findings are printed as FILE:LINE: error|note: MESSAGE [rule]. Exit 1 when there is an error, \
                2 when a file cannot be read.

                Examples:
                  triage-eval pipeline lint scenarios/pipelines/seed
                  triage-eval pipeline lint --catalog catalog.yaml sensors/ workflows/
                """
        )

        @Option(
            help: ArgumentHelp(
                "The action catalog (default: a catalog document found among the paths, else no catalog rules).",
                valueName: "file"))
        var catalog: String?

        @Argument(help: ArgumentHelp("Manifest files or folders (.yaml/.yml, read recursively).", valueName: "path"))
        var paths: [String]

        func validate() throws {
            guard !paths.isEmpty else { throw ValidationError("Give at least one manifest file or folder.") }
        }

        func run() throws {
            let (findings, catalogPath) = try reportingSetupErrors {
                let manifests = try PipelineManifests.load(paths: paths)
                let path = catalog ?? manifests.catalogFiles.first
                let loaded = try path.map { try Catalog.load(path: $0) }
                return (PipelineLint.lint(manifests, catalog: loaded), path)
            }
            for finding in findings { print(finding) }
            let errors = findings.filter { $0.severity == .error }.count
            let notes = findings.count - errors
            let checked = catalogPath.map { "with catalog \($0)" } ?? "without a catalog (no catalog rules)"
            let target = paths.joined(separator: " ")
            if errors == 0 {
                printError("\(target): ok \(checked)" + (notes > 0 ? ", \(notes) note(s)" : ""))
            } else {
                printError("\(target): \(errors) error(s), \(notes) note(s) \(checked)")
                throw ExitCode(1)
            }
        }
    }
}

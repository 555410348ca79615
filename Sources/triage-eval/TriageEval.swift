import ArgumentParser

@main
struct TriageEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage-eval",
        abstract: "Replay and evaluate an LLM auto-remediation pipeline on real Alertmanager history.",
        discussion: """
            Loads webhook deliveries into SQLite, runs every incident through production's planner, validator and \
            router against cached model replies, scores the decisions against labels, and writes reports.

            Exit codes: 0 ok; 1 a gate or check failed; 2 a set-up error (bad file, missing reply); \
            64 a malformed command line; 70 an internal error (a bug in triage-eval: please report it).

            Example:
              triage-eval run scenarios/demo.yaml
            """,
        subcommands: [
            Ingest.self, Capture.self, Run.self, Shards.self, Merge.self, Report.self, Compare.self, Export.self,
            Cache.self, Decision.self,
            Prompt.self,
            CatalogCommand.self, PipelineCommand.self, Audit.self,
        ]
    )
}

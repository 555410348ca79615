import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load Alertmanager webhook bodies into the store.",
            discussion: """
                A .json file is one body; a .jsonl or .ndjson file is one body per line (blank lines are skipped \
                and counted); either may be gzipped. Directories are walked recursively in path order; '-' reads \
                standard input as JSON Lines. A NAME.headers.jsonl sidecar gives receive times (recv_unix).

                Repeated bodies are counted as duplicates; bodies that are not version-4 webhooks are \
                quarantined with their source and reason. Every unit read is stored, duplicate or quarantined.

                A unit over --max-body-bytes is never held whole: it is quarantined with its size, its SHA-256 \
                and its first 4 KiB. A truncated or corrupt gzip file keeps the units before the break, \
                quarantines the broken tail and the ingest goes on with the next file. File names that are not \
                UTF-8 are read, and named with \\xNN escapes.

                Example:
                  triage-eval ingest captured/ --json
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("Files, directories, or '-' for standard input.", valueName: "path"))
        var paths: [String]

        @Flag(help: "Print one JSON object on one line of standard output instead of the summary.")
        var json = false

        @Flag(help: "Exit 1 if any unit was quarantined.")
        var strict = false

        @Option(help: ArgumentHelp("The largest body accepted, in bytes (at most 256 MiB).", valueName: "bytes"))
        var maxBodyBytes = WebhookPayload.defaultSizeLimit

        func validate() throws {
            if let problem = WebhookPayload.sizeLimitProblem(maxBodyBytes, flag: "--max-body-bytes") {
                throw ValidationError(problem)
            }
        }

        func run() throws {
            let summary = try reportingSetupErrors {
                var ingestor = Ingestor(store: try store.open(), sizeLimit: maxBodyBytes)
                ingestor.progressStyle = Progress.automaticStyle
                return try ingestor.ingest(paths: paths)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                print(
                    """
                    read \(summary.read) units from \(summary.files) file(s): \(summary.stored) stored, \
                    \(summary.duplicates) duplicate, \(summary.quarantined) quarantined; \(summary.blank) blank line(s)
                    incidents: \(summary.incidents) opened, \(summary.resolved) resolved; \
                    \(summary.orphanResolved) resolved deliveries without an open incident
                    """)
            }
            for broken in summary.brokenFiles {
                printError(
                    "warning: \(broken.path): \(broken.reason); the units before the break were kept, the tail "
                        + "quarantined")
            }
            if summary.escapedNames > 0 {
                printError(
                    "warning: \(summary.escapedNames) file name(s) are not valid UTF-8; read, and named with \\xNN "
                        + "escapes")
            }
            if summary.quarantined > 0 {
                printError("warning: \(summary.quarantined) unit(s) quarantined (see the quarantine table)")
            }
            if strict && summary.quarantined > 0 { throw ExitCode(1) }
        }
    }
}

import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Cache: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage cached model replies.",
            subcommands: [Import.self, Export.self]
        )
    }
}

extension TriageEval.Cache {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Load cached replies from JSON Lines files (optionally gzipped).",
            discussion: """
                One reply a line: {"incident_id", "sample", "model", "text"} and optionally "provider", \
                "stop_reason", "usage". The incidents must be in the store. A reply identical to a stored one is \
                skipped; a different reply for the same incident, model and sample is an error.

                Example:
                  triage-eval cache import corpora/handwritten/replies.jsonl
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("Reply files, or '-' for standard input.", valueName: "file"))
        var files: [String]

        @Option(help: "The provider recorded for lines that do not name one.")
        var provider = "anthropic"

        func run() throws {
            try reportingSetupErrors {
                let store = try store.open()
                for file in files {
                    let summary = try ReplyImporter.importFile(path: file, defaultProvider: provider, store: store)
                    print(
                        "\(file): \(summary.read) replies read, \(summary.imported) imported, "
                            + "\(summary.alreadyPresent) already present")
                }
            }
        }
    }
}

extension TriageEval.Cache {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write cached replies as JSON Lines (gzipped when the file ends in .gz).",
            discussion: """
                One reply a line: incident_id, sample, provider, model, text, stop_reason, usage, latency_ms, \
                request_sha256, user_sha256, system_sha256, recorded_at (and http_status, error for a stored \
                HTTP error) — what 'cache import' reads back, so recorded replies can ship with a corpus.

                Example:
                  triage-eval cache export --model smollm2 -o corpora/k8s-real/replies-smollm2.jsonl.gz
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "Only this model's replies.")
        var model: String?

        @Option(
            name: .customLong("run"),
            help: ArgumentHelp(
                "Only the replies this run judged (its incidents' and its pipeline replay's).", valueName: "run"))
        var runId: String?

        @OptionGroup var output: OutputOptions

        func run() throws {
            try reportingSetupErrors {
                let store = try store.open()
                let count = try output.write { line in
                    try ReplyExporter.export(store: store, filter: ReplyExporter.Filter(model: model, runId: runId)) {
                        line($0)
                    }
                }
                printError("exported \(count) replies")
            }
        }
    }
}

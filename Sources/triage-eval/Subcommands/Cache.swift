import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Cache: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage cached model replies.",
            subcommands: [Import.self]
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
                  triage-eval cache import corpora/demo/replies.jsonl
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

import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check or write out a run's hash-chained audit log (the seed's remediation_audit).",
            discussion: """
                A run with a pipeline: section writes one remediation_audit row for every Workflow that ran \
                (incident_id, action, params, result, created_at in production time). row_bytes is the row's \
                RFC 8785 canonical JSON, kept as written; this_hash = SHA-256(prev_hash || row_bytes), the first \
                prev_hash 32 zero bytes.
                """,
            subcommands: [Verify.self, Export.self]
        )
    }
}

extension TriageEval.Audit {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute a run's audit chain and name the first row that breaks it.",
            discussion: """
                Reads the rows in id order and checks each: ids run 1, 2, …; its columns are what its row_bytes \
                say; prev_hash is the previous row's this_hash; this_hash is SHA-256(prev_hash || row_bytes). \
                Exit 0 when the chain holds, 1 at the first row that breaks it, 2 for a run without one.

                Example:
                  triage-eval audit verify demo-20261207T011517Z
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
        var runId: String

        func run() throws {
            let verification = try reportingSetupErrors {
                try AuditLog.verify(store: try store.open(), runId: runId)
            }
            if let broken = verification.firstBreak {
                printError("audit chain of \(runId) is broken at \(broken)")
                throw ExitCode(1)
            }
            print(
                "audit chain of \(runId) holds: \(verification.rows) rows"
                    + (verification.head.map { ", head \($0)" } ?? ""))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a run's audit chain as JSON Lines, or as SQL for PostgreSQL.",
            discussion: """
                jsonl: one row a line with id, incident_id, action, params, result, created_at, row_bytes (the \
                canonical JSON text whose UTF-8 bytes were hashed), prev_hash and this_hash (hex).

                sql: a PostgreSQL script that creates the seed's remediation_audit table and inserts the rows, \
                row_bytes kept as bytea — not jsonb, which keeps neither key order, white space nor repeated keys \
                and rewrites numbers, so a hash over it could not be recomputed — with the query that finds the \
                first broken row in a comment.

                Examples:
                  triage-eval audit export RUN -o audit.jsonl
                  triage-eval audit export RUN --format sql | psql
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
        var runId: String

        @Option(help: "jsonl or sql.")
        var format: AuditLog.Format = .jsonl

        @OptionGroup var output: OutputOptions

        func run() throws {
            try reportingSetupErrors {
                let store = try store.open()
                let count = try output.write { line in
                    try AuditLog.export(store: store, runId: runId, format: format) { line($0) }
                }
                printError("exported \(count) audit rows")
            }
        }
    }
}

extension AuditLog.Format: ExpressibleByArgument {}

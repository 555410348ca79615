import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Decision: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what production does with model replies.",
            subcommands: [Check.self]
        )
    }
}

extension TriageEval.Decision {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate and route replies exactly as production would.",
            discussion: """
                Reads JSON Lines {"id", "text"} and writes one JSON line each: {"id", "outcome", "errors": \
                [{"type", "loc"}], "decision", "route", "failure_class"} — pydantic 2.13's verdict on the text, \
                in the conventions of the parity vectors (non-finite floats as "NaN", "Infinity", "-Infinity"). \
                Routing is production's unless --approval-gate is given. With --strict-policy each line also \
                lists the strict policy's violations. Verdicts are data: the exit code is 0 when every line was \
                processed, 2 when the input cannot be read.

                Example:
                  echo '{"id": 1, "text": "{\\"incident_id\\": \\"i\\"}"}' | \\
                    triage-eval decision check --catalog corpora/handwritten/catalog.yaml
                """
        )

        @Option(
            help: ArgumentHelp("The action catalog (YAML or JSON): its names are the allow-list.", valueName: "file"))
        var catalog: String

        @Option(help: "The confidence below which a decision needs approval.")
        var threshold = 0.7

        @Flag(help: "Apply the approval-gate policy: route to approve any decision with a requires_approval action.")
        var approvalGate = false

        @Flag(help: "Add the strict policy's violations (params, constraints, selector, namespace) to each line.")
        var strictPolicy = false

        @Argument(help: ArgumentHelp("JSON Lines input, or '-' for standard input.", valueName: "file"))
        var input = "-"

        func validate() throws {
            // NaN would compare false with every confidence and execute everything.
            guard threshold.isFinite, (0...1).contains(threshold) else {
                throw ValidationError("--threshold must be a number between 0 and 1")
            }
        }

        func run() throws {
            try reportingSetupErrors {
                let catalog = try Catalog.load(path: catalog)
                let check = DecisionCheck(
                    judge: Judge(catalog: catalog, threshold: threshold, approvalGate: approvalGate),
                    showsPolicy: strictPolicy)
                let output = FileHandle.standardOutput
                try check.run(path: input) { line in output.write(Data((line + "\n").utf8)) }
            }
        }
    }
}

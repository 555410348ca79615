import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct CatalogCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract: "Check action catalogs.",
            subcommands: [Lint.self]
        )
    }
}

extension TriageEval.CatalogCommand {
    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a catalog against the seed's rules.",
            discussion: """
                Every action has a runbook URL; every destructive action (destructive: true, or a blast radius \
                in --destructive-blast-radius) requires approval; every action has a timeout. Also unknown keys, \
                duplicate action names, duplicate params, a missing template and constraints on undeclared \
                params. Findings are printed as FILE:LINE: error: MESSAGE. Exit 1 when there are findings, 2 \
                when the file cannot be read.

                Example:
                  triage-eval catalog lint corpora/handwritten/catalog.yaml
                """
        )

        @Argument(help: ArgumentHelp("The catalog (YAML, or JSON for .json files).", valueName: "file"))
        var file: String

        @Option(
            name: .customLong("destructive-blast-radius"),
            help: ArgumentHelp(
                "A blast radius that makes an action destructive (repeatable; default: namespace, cluster, node).",
                valueName: "radius"))
        var destructiveBlastRadii: [String] = []

        func run() throws {
            let findings = try reportingSetupErrors {
                let radii = destructiveBlastRadii.isEmpty ? ["namespace", "cluster", "node"] : destructiveBlastRadii
                return try CatalogLint(destructiveBlastRadii: Set(radii)).lint(path: file)
            }
            for finding in findings { print(finding) }
            if findings.isEmpty {
                printError("\(file): ok")
            } else {
                printError("\(file): \(findings.count) finding(s)")
                throw ExitCode(1)
            }
        }
    }
}

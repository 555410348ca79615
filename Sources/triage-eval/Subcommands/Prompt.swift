import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Prompt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the exact prompts production sends.",
            subcommands: [System.self, User.self, Incident.self]
        )
    }
}

/// Writes bytes to standard output with nothing added.
private func writeExactly(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

extension TriageEval.Prompt {
    struct System: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the system prompt for a catalog (no newline added).",
            discussion: """
                The seed's template with json.dumps(CATALOG, indent=2) in place of {catalog_json}.

                Example:
                  triage-eval prompt system --catalog corpora/handwritten/catalog.yaml | sha256sum
                """
        )

        @Option(help: ArgumentHelp("The action catalog (YAML or JSON).", valueName: "file"))
        var catalog: String

        @Option(
            help: ArgumentHelp("A system prompt template with {catalog_json} (default: the seed's).", valueName: "file")
        )
        var template: String?

        func run() throws {
            let prompt = try reportingSetupErrors {
                let catalog = try Catalog.load(path: catalog)
                let text = try template.map { try Planner.loadTemplate(path: $0) } ?? Planner.seedTemplate
                return Planner(catalog: catalog, template: text).systemPrompt
            }
            writeExactly(prompt)
        }
    }

    struct User: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the user message for an event given as JSON text (no newline added).",
            discussion: """
                json.dumps(json.loads(event)): separators ", " and ": ", key order kept, non-ASCII escaped.

                Example:
                  echo '{"incident_id": "inc-1", "status": "firing"}' | triage-eval prompt user
                """
        )

        @Argument(help: ArgumentHelp("The event's JSON file, or '-' for standard input.", valueName: "file"))
        var input = "-"

        func run() throws {
            let message = try reportingSetupErrors {
                let bytes = try LineReader(source: try ByteSource(path: input)).readAll()
                do {
                    return try Planner.userMessage(eventJSON: bytes)
                } catch {
                    throw InputError.notJSON(path: input == "-" ? "standard input" : input, reason: "\(error)")
                }
            }
            writeExactly(message)
        }
    }

    struct Incident: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the prompts production would send for a stored incident.",
            discussion: """
                With --part user (the default) or --part system, prints that prompt's exact bytes with no \
                newline added; --part both prints one JSON object {"system", "user"} holding both.

                Example:
                  triage-eval prompt incident inc-4fcc88a1185c1f17 --part user
                """
        )

        enum Part: String, ExpressibleByArgument, CaseIterable {
            case user, system, both
        }

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The incident id.", valueName: "id"))
        var id: String

        @Option(help: "Which prompt to print.")
        var part: Part = .user

        @Option(help: ArgumentHelp("The action catalog (needed for the system prompt).", valueName: "file"))
        var catalog: String?

        @Option(help: ArgumentHelp("A system prompt template (default: the seed's).", valueName: "file"))
        var template: String?

        func validate() throws {
            if part != .user && catalog == nil { throw ValidationError("--part \(part.rawValue) needs --catalog") }
        }

        func run() throws {
            let output = try reportingSetupErrors { () throws -> String in
                let user = try IncidentEvents.userMessage(store: try store.open(), incidentId: id)
                guard part != .user, let catalog else { return user }
                let text = try template.map { try Planner.loadTemplate(path: $0) } ?? Planner.seedTemplate
                let system = Planner(catalog: try Catalog.load(path: catalog), template: text).systemPrompt
                if part == .system { return system }
                return PythonJSONEncoder.string(.object([("system", .string(system)), ("user", .string(user))]))
            }
            writeExactly(output)
        }
    }
}

import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// The prompts must be the bytes production sends.
@Suite struct PromptGoldenTests {
    @Test func catalogJSONMatchesProduction() throws {
        let catalog = try Catalog.load(path: Fixtures.path("parity/prompt/seed-actions.yaml"))
        #expect(catalog.promptJSON == (try Fixtures.text("parity/prompt/seed-actions.catalog.json")))
    }

    @Test func systemPromptMatchesProduction() throws {
        let catalog = try Catalog.load(path: Fixtures.path("parity/prompt/seed-actions.yaml"))
        let golden = try Fixtures.text("parity/prompt/seed-actions.system.txt")
        #expect(Planner(catalog: catalog).systemPrompt == golden)
        // The JSON form of the same catalog gives the same prompt.
        let fromJSON = try Catalog.load(path: Fixtures.path("parity/prompt/seed-actions.catalog.json"))
        #expect(Planner(catalog: fromJSON).systemPrompt == golden)
    }

    struct UserCase: CustomTestStringConvertible, Sendable {
        var id: String
        var text: String
        var expected: String
        var testDescription: String { id }
    }

    static func userCases() throws -> [UserCase] {
        try Fixtures.jsonLines("parity/prompt/user-message-golden.jsonl").map {
            UserCase(id: $0["id"] as! String, text: $0["text"] as! String, expected: $0["python_json_dumps"] as! String)
        }
    }

    @Test(arguments: try PromptGoldenTests.userCases())
    func userMessageMatchesProduction(_ golden: UserCase) throws {
        #expect(try Planner.userMessage(eventJSON: Array(golden.text.utf8)) == golden.expected)
    }
}

@Suite struct TemplateFileTests {
    @Test func theBuiltInTemplateIsTheRepositoryFile() throws {
        let file = try Planner.loadTemplate(path: Repository.path("scenarios/templates/seed.txt"))
        #expect(file == Planner.seedTemplate)
    }

    @Test func aTemplateWithoutThePlaceholderIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("t.txt", "no placeholder")
        #expect(throws: PlannerError.templateWithoutPlaceholder(path: path)) { try Planner.loadTemplate(path: path) }
    }
}

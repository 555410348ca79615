import Foundation
import Testing
import TriageEvalCore

/// Every prompt rule against what Python computed (Fixtures/python/prompt-cases.jsonl).
@Suite struct PythonParityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: String
        var id: String
        var text: String
        var expected: String?
        var error: String?
        var testDescription: String { id }
    }

    static func cases(_ kind: String) throws -> [Case] {
        try Fixtures.jsonLines("python/prompt-cases.jsonl").filter { $0["kind"] as? String == kind }.map {
            Case(
                kind: kind, id: $0["id"] as! String,
                text: ($0["text"] as? String) ?? ($0["value_hex"] as? String) ?? "",
                expected: ($0["json"] as? String) ?? ($0["repr"] as? String), error: $0["error"] as? String)
        }
    }

    @Test(arguments: try PythonParityTests.cases("yaml"))
    func yamlCatalogsDumpAsPython(_ yamlCase: Case) throws {
        if yamlCase.error != nil {
            #expect(throws: (any Error).self) { try PyYAMLLoader.load(yamlCase.text) }
            return
        }
        let value = try PyYAMLLoader.load(yamlCase.text)
        #expect(PythonJSONEncoder.string(value, layout: .indented(2)) == yamlCase.expected)
    }

    @Test(arguments: try PythonParityTests.cases("json_catalog"))
    func jsonCatalogsDumpAsPython(_ jsonCase: Case) throws {
        let catalog = try Catalog.parse(text: jsonCase.text, path: "c.json", format: "json")
        #expect(catalog.promptJSON == jsonCase.expected)
    }

    @Test(arguments: try PythonParityTests.cases("user"))
    func userMessagesAsPython(_ userCase: Case) throws {
        #expect(try Planner.userMessage(eventJSON: Array(userCase.text.utf8)) == userCase.expected)
    }

    @Test func floatsReprAsPython() throws {
        let cases = try Self.cases("float")
        #expect(cases.count > 1000)
        var mismatches: [String] = []
        for floatCase in cases {
            let bits = UInt64(floatCase.text, radix: 16)!
            let value = Double(bitPattern: bits)
            let repr = PythonJSONEncoder.pythonFloatRepr(value)
            if repr != floatCase.expected { mismatches.append("\(floatCase.expected!) ≠ \(repr)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test func datesNameTheKeyAsProductionWouldCrashThere() {
        #expect(
            throws: PyYAMLError.notSerializable(
                path: "actions[0].constraints.not_before", line: 4, type: "date or datetime ('2026-01-01')")
        ) {
            try PyYAMLLoader.load("actions:\n  - name: a\n    constraints:\n      not_before: 2026-01-01\n")
        }
    }
}

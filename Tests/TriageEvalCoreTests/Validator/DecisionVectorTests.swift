import Foundation
import Testing
import TriageEvalCore

/// Every line of production's decision vectors: outcome, errors (type and loc, in order), normalized decision
/// and route must be what pydantic 2.13.4 said.
@Suite struct DecisionVectorTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var id: String
        var text: String
        var outcome: String
        var errors: [String]
        var decision: JSONValue
        var route: String
        var testDescription: String { id }
    }

    static let allowed: Set<String> = ["restart_pods", "scale_up", "rollback_release", "clear_redis_keys"]

    static func vectors() throws -> [Vector] {
        try Fixtures.text("parity/decision-vectors.jsonl").split(separator: "\n").map { line in
            let value = try JSONParser.parse(String(line))
            let errors = value["errors"]!.arrayElements!.map { error -> String in
                let loc = error["loc"]!.arrayElements!.map { element -> String in
                    switch element {
                    case .string(let text): return text
                    case .integer(let digits): return digits
                    default: return "?"
                    }
                }
                return "\(error["type"]!.stringValue!)@\(loc.joined(separator: "."))"
            }
            return Vector(
                id: value["id"]!.stringValue!, text: value["text"]!.stringValue!,
                outcome: value["outcome"]!.stringValue!, errors: errors, decision: value["decision"]!,
                route: value["route"]!.stringValue!)
        }
    }

    @Test func thereAreVectors() throws {
        #expect(try Self.vectors().count == 181)
    }

    @Test(arguments: try DecisionVectorTests.vectors())
    func verdictMatchesProduction(_ vector: Vector) {
        let verdict = DecisionValidator(allowedNames: Self.allowed).validate(vector.text)
        #expect(verdict.outcome.rawValue == vector.outcome, "outcome")
        let errors = verdict.errors.map { "\($0.type)@\($0.loc.map(\.description).joined(separator: "."))" }
        #expect(errors == vector.errors, "errors")
        let decision =
            vector.outcome == "ok" ? verdict.decision.map { DecisionCheck.vectorForm($0.jsonValue) } ?? .null : .null
        #expect(decision == vector.decision, "decision")
        let router = Router(threshold: 0.7, approvalGate: false, approvalRequired: [])
        #expect(router.route(verdict).0.rawValue == vector.route, "route")
    }
}

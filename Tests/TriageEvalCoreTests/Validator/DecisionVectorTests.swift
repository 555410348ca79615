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

    static func vectors() throws -> [Vector] { try vectors(in: "parity/decision-vectors.jsonl") }

    /// Vectors found as defects, with production's verdicts (`parity-extra/make_vectors.py`).
    static func extraVectors() throws -> [Vector] { try vectors(in: "parity-extra/vectors.jsonl") }

    static func vectors(in fixture: String) throws -> [Vector] {
        try Fixtures.text(fixture).split(separator: "\n").map { line in
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
        #expect(try Self.extraVectors().count == 6)
    }

    @Test(arguments: try DecisionVectorTests.vectors() + DecisionVectorTests.extraVectors())
    func verdictMatchesProduction(_ vector: Vector) {
        let verdict = DecisionValidator(allowedNames: Self.allowed).validate(vector.text)
        #expect(verdict.outcome.rawValue == vector.outcome, "outcome")
        let errors = verdict.errors.map { "\($0.type)@\($0.loc.map(\.description).joined(separator: "."))" }
        #expect(errors == vector.errors, "errors")
        let decision =
            vector.outcome == "ok" ? verdict.decision.map { DecisionCheck.vectorForm($0.jsonValue) } ?? .null : .null
        // Compared as json.dumps text, not as values: 0.0 == -0.0, but production stores "0.0" (scripts/fuzz found
        // the fast path giving -0.0 for `"confidence": -0`).
        #expect(PythonJSONEncoder.string(decision) == PythonJSONEncoder.string(vector.decision), "decision")
        let router = Router(threshold: 0.7, approvalGate: false, approvalRequired: [])
        #expect(router.route(verdict).route.rawValue == vector.route, "route")
    }

    /// The stored form of a decision, written directly, is byte for byte the Python-parity encoder's output of
    /// its value (whose parity with CPython's json.dumps is tested on its own), on every decision of the vectors
    /// and on a few with escapes, non-ASCII text, several actions and odd confidences.
    @Test func decisionsWrittenDirectlyMatchTheEncoder() throws {
        var decisions = try Self.vectors().compactMap {
            DecisionValidator(allowedNames: Self.allowed).validate($0.text).decision
        }
        #expect(decisions.count > 20)
        let action = DecisionAction(
            name: "restart_pods",
            params: [.init(name: "namespace", value: "shop\"\\\n"), .init(name: "é", value: "😀")],
            rationale: "tab\there, </script> and \u{7f}")
        for confidence in [0.0, -0.0, 1e-5, 0.1, 1e16, 123456789.125, .nan, .infinity] {
            decisions.append(Decision(incidentId: "inc-1", actions: [], confidence: confidence, needsHuman: true))
            decisions.append(
                Decision(incidentId: "ünï", actions: [action, action], confidence: confidence, needsHuman: false))
        }
        for decision in decisions {
            #expect(decision.pythonJSON == PythonJSONEncoder.string(decision.jsonValue))
        }
        #expect(PythonJSONEncoder.string(list: []) == "[]")
        #expect(
            PythonJSONEncoder.string(list: ["a", "b\"é"])
                == PythonJSONEncoder.string(.array([.string("a"), .string("b\"é")])))
    }
}

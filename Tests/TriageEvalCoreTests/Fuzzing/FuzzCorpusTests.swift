import Foundation
import Testing
import TriageEvalCore
import TriageEvalFuzzing

/// The fuzz targets' properties over the committed corpora (`Fixtures/fuzz/TARGET`): the seeds scripts/fuzz
/// starts from, and every input it found breaking a property (`regression-*`), fixed and kept.
@Suite struct FuzzCorpusTests {
    struct Input: CustomTestStringConvertible, Sendable {
        var target: FuzzTarget
        var name: String
        var testDescription: String { "\(target.rawValue)/\(name)" }
    }

    static func inputs(_ target: FuzzTarget) throws -> [Input] {
        try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("fuzz/\(target.rawValue)")).sorted().map {
            Input(target: target, name: $0)
        }
    }

    static func allInputs() throws -> [Input] { try FuzzTarget.allCases.flatMap(inputs) }

    @Test func everyTargetHasSeedsAndADictionary() throws {
        for target in FuzzTarget.allCases {
            let names = try Self.inputs(target).map(\.name)
            #expect(names.filter { $0.hasPrefix("seed-") }.count >= 15, "\(target.rawValue) seeds")
            #expect(names.allSatisfy { $0.hasPrefix("seed-") || $0.hasPrefix("regression-") }, "\(target.rawValue)")
            #expect(FileManager.default.fileExists(atPath: Fixtures.path("fuzz/\(target.rawValue).dict")))
        }
    }

    @Test(arguments: try FuzzCorpusTests.allInputs())
    func keepsEveryProperty(_ input: Input) throws {
        let data = try #require(
            FileManager.default.contents(atPath: Fixtures.path("fuzz/\(input.target)/\(input.name)")))
        #expect(input.target.check(Array(data)) == [])
    }

    /// The first regression: `"confidence": -0` is the int 0, which pydantic makes 0.0; the fast path read it with
    /// strtod as -0.0, so the stored decision said `-0.0` where production's says `0.0`.
    @Test func negativeZeroIntegerConfidenceIsPositiveZero() throws {
        let text = #"{"incident_id":"i","actions":[],"confidence":-0,"needs_human":false}"#
        let decision = try #require(DecisionValidator(allowedNames: []).validate(text).decision)
        #expect(decision.confidence.sign == .plus)
        #expect(decision.pythonJSON.contains(#""confidence": 0.0,"#))
        let float = try #require(
            DecisionValidator(allowedNames: []).validate(text.replacing("-0", with: "-0.0")).decision)
        #expect(float.pythonJSON.contains(#""confidence": -0.0,"#))
    }

    /// The comparison the decision target makes between its two paths tells verdicts apart by what a user sees:
    /// the dumped decision (so -0.0 is not 0.0, and NaN is NaN) and where the text stopped being JSON.
    @Test func verdictsDifferInWhatAUserSees() {
        let validator = DecisionValidator(allowedNames: [])
        func verdict(_ text: String) -> Verdict { validator.validate(text) }
        let zero = verdict(#"{"incident_id":"i","actions":[],"confidence":0.0,"needs_human":false}"#)
        let negative = verdict(#"{"incident_id":"i","actions":[],"confidence":-0.0,"needs_human":false}"#)
        let nan = verdict(#"{"incident_id":"i","actions":[],"confidence":NaN,"needs_human":false}"#)
        #expect(DecisionFuzzing.difference(zero, zero) == nil)
        #expect(DecisionFuzzing.difference(nan, nan) == nil)
        #expect(DecisionFuzzing.difference(zero, negative)?.contains("-0.0") == true)
        #expect(DecisionFuzzing.difference(verdict("{"), verdict("{}}")) != nil)
        #expect(DecisionFuzzing.difference(verdict("{"), verdict("[")) == nil)
    }
}

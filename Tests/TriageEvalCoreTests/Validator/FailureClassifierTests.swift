import Testing
import TriageEvalCore

@Suite struct FailureClassifierTests {
    static let validator = DecisionValidator(allowedNames: ["restart_pods"])
    static let valid = #"{"incident_id":"i","actions":[],"confidence":0.9,"needs_human":false}"#

    static func classify(_ text: String) -> FailureClass { validator.validate(text).failureClass }

    @Test(arguments: [
        ("", FailureClass.empty), (" \t\r\n", .empty),
        ("\u{FEFF}", .syntax),  // a BOM is not whitespace
        ("```json\n\(valid)\n```", .wrapped), ("Here you go: \(valid)", .wrapped),
        ("\(valid) Hope this helps.", .wrapped),
        ("\(valid)\(valid)", .wrapped), ("\u{FEFF}\(valid)", .wrapped), ("prose {\"a\": 1} more prose", .wrapped),
        (String(valid.dropLast()), .truncated), ("{\"incident_id\":\"i", .truncated), ("tru", .truncated),
        ("```json\n{\"incident_id\":", .truncated), ("Sure! {\"actions\": [", .truncated), ("[1, 2", .truncated),
        ("{'incident_id': 'i'}", .syntax), ("{incident_id: 1}", .syntax), ("I cannot decide.", .syntax),
        ("{\"a\": 1,}", .syntax),
        ("[\(valid)]", .notObject), ("\"text\"", .notObject), ("0.9", .notObject), ("null", .notObject),
        ("{}", .schema), (#"{"incident_id":"i","actions":{},"confidence":0.9,"needs_human":false}"#, .schema),
        (
            #"{"incident_id":"i","actions":[{"name":"x","params":{},"rationale":""}],"confidence":0.9,"needs_human":false}"#,
            .unknownAction
        ),
        (valid, .ok),
    ])
    func classes(_ text: String, _ expected: FailureClass) {
        #expect(Self.classify(text) == expected, "\(text.debugDescription)")
    }

    @Test func invalidJSONIsExactlyTheFirstFourClasses() {
        #expect(FailureClass.allCases.filter(\.isInvalidJSON) == [.empty, .wrapped, .truncated, .syntax])
    }

    @Test func syntaxErrorsKeepTheirByteOffset() {
        #expect(Self.validator.validate("{\"a\": 1,}").syntaxErrorOffset == 8)
        #expect(Self.validator.validate("{'a': 1}").syntaxErrorOffset == 1)
        #expect(Self.validator.validate(Self.valid).syntaxErrorOffset == nil)
    }

    @Test func truncationNeedsTheTextToEndInsideAValue() {
        // Closed, then garbage: a syntax error, not a truncation.
        #expect(Self.classify("[1, 2] x") == .syntax)
        #expect(Self.classify("{\"a\": tru}") == .syntax)
    }
}

@Suite struct FailureClassOfVectorsTests {
    static let validator = DecisionValidator(allowedNames: ["restart_pods"])

    /// Broken JSON whose nested objects happen to be complete is a syntax error or a truncation, never a
    /// "wrapped" reply: only an object among other text is.
    @Test func nestedCompleteObjectsDoNotMakeAReplyWrapped() {
        let action = #"{"name":"restart_pods","params":{"namespace":"prod"},"rationale":"r"}"#
        #expect(Self.validator.validate(#"{incident_id:"i","actions":[\#(action)]}"#).failureClass == .syntax)
        #expect(Self.validator.validate(#"{/* c */"incident_id":"i","actions":[\#(action)]}"#).failureClass == .syntax)
        #expect(Self.validator.validate(#"{"incident_id":"i","actions":[\#(action)"#).failureClass == .truncated)
        #expect(Self.validator.validate(#"Here {not json} and {"a": 1}"#).failureClass == .wrapped)
        #expect(Self.validator.validate(#"{'a': {"b": 1}}"#).failureClass == .syntax)
    }
}

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TriageEvalCore

/// The JUnit document, on a hand-built run: three incidents (one passing, one with both its failures listed, one
/// with one of its two failures past the listing's limit) and two gates (one failing).
@Suite struct JUnitReportTests {
    static let gates = [
        GateResult(name: "min_decision_accuracy", limit: "0.8", value: "0.5", passed: false, detail: "too low"),
        GateResult(name: "max_unsafe_executions", limit: "1", value: "0", passed: true, detail: "ok"),
    ]

    @Test func everyIncidentIsATestcaseAndOnlyTheFailingOnesFail() throws {
        let cases = JUnitReport.cases(
            incidents: [("inc-a", 0), ("inc-b", 2), ("inc-c", 2)],
            listed: [("inc-b", 0, "got x"), ("inc-b", 1, "got <y>"), ("inc-c", 0, "got z")])
        #expect(
            cases == [
                .init(incidentId: "inc-a", failing: 0),
                .init(incidentId: "inc-b", failing: 2, lines: ["sample 0: got x", "sample 1: got <y>"]),
                .init(incidentId: "inc-c", failing: 2, lines: ["sample 0: got z"]),
            ])
        let xml = JUnitReport.render(name: "triage-eval r1", gates: Self.gates, incidents: cases)
        let expected = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="triage-eval r1" tests="5" failures="3">
              <testsuite name="gates" tests="2" failures="1">
                <testcase classname="triage-eval.gates" name="min_decision_accuracy">
                  <failure message="0.5 vs limit 0.8">too low</failure>
                </testcase>
                <testcase classname="triage-eval.gates" name="max_unsafe_executions"/>
              </testsuite>
              <testsuite name="incidents" tests="3" failures="2">
                <testcase classname="triage-eval.incidents" name="inc-a"/>
                <testcase classname="triage-eval.incidents" name="inc-b">
                  <failure message="2 failing sample(s)">sample 0: got x
            sample 1: got &lt;y&gt;</failure>
                </testcase>
                <testcase classname="triage-eval.incidents" name="inc-c">
                  <failure message="2 failing sample(s)">sample 0: got z
            1 more not listed (see report.json and export)</failure>
                </testcase>
              </testsuite>
            </testsuites>

            """
        #expect(xml == expected)
        // Well-formed: Foundation's parser reads it, and counts three incident testcases.
        let document = try XMLDocument(xmlString: xml)
        #expect(try document.nodes(forXPath: "//testsuite[@name='incidents']/testcase").count == 3)
    }

    @Test func aComparisonListsTheIncidentsThatGotWorse() {
        let cases = JUnitReport.cases(failing: [
            ("inc-b", 0, "got worse"), ("inc-b", 1, "got worse"), ("inc-d", 0, "x"),
        ])
        #expect(
            cases == [
                .init(incidentId: "inc-b", failing: 2, lines: ["sample 0: got worse", "sample 1: got worse"]),
                .init(incidentId: "inc-d", failing: 1, lines: ["sample 0: x"]),
            ])
    }
}

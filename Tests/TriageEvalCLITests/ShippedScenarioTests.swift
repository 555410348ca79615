import Foundation
import Testing
import TriageEvalTestSupport

/// Every scenario in `scenarios/` replays offline from the replies shipped with its corpus.
@Suite(.serialized) struct ShippedScenarioTests {
    @Test func everyShippedScenarioReplaysOffline() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("shipped.sqlite")
        let names = try FileManager.default.contentsOfDirectory(atPath: Repository.path("scenarios"))
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.contains("demo.yaml") && names.count >= 4, "\(names)")
        // The catalog change is gated against the grammar-constrained run: that one goes first.
        let ordered = names.sorted { a, _ in a == "k8s-real-smollm2-json.yaml" }
        var runs: [String: String] = [:]
        for name in ordered {
            // No model server and no network: a replay miss would exit 2.
            let result = try BinaryRunner.run(
                ["run", Repository.path("scenarios/\(name)"), "--db", db, "--reports", temp.file("reports")])
            let expected: Int32 = name == "catalog-change.yaml" ? 1 : 0
            #expect(result.status == expected, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("calls 0"), "\(name) made no call")
            runs[name] = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The catalog change fails its new-unsafe gate, and says its replies were reused, not asked for.
        let change =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(fileURLWithPath: temp.file("reports/\(runs["catalog-change.yaml"]!)/report.json")))
            ) as! [String: Any]
        let gates = change["gates"] as! [[String: Any]]
        #expect(gates.first { $0["name"] as? String == "max_new_unsafe_vs" }?["passed"] as? Bool == false)
        #expect((change["sources"] as! [String: Any])["staleReplies"] as? Int == 200)
    }
}

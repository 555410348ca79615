import Foundation
import Testing
import TriageEvalTestSupport

/// A model that does nothing must not pass: the README's example gates against a constant always-defer reply set,
/// and the baselines every report carries, checked against counts made here from the run's own tallies.
@Suite(.serialized) struct BaselineTests {
    /// The `gates:` block of the README's scenario reference, as written there.
    static func readmeGates() throws -> String {
        let readme = try String(contentsOfFile: Repository.path("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("gates:") && $0.contains("CI gates") })
        var block = ["gates:"]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix("  ") else { break }
            // A gate naming a baseline run needs one; this test is about the gates on the run itself.
            if ["no_significant_regression_vs", "max_new_unsafe_vs", "max_unsafe_rate_increase_vs"].contains(
                where: { line.contains($0) })
            {
                continue
            }
            block.append(String(line))
        }
        return block.joined(separator: "\n")
    }

    /// k8s-real's first 100 labelled incidents × 2 samples — the issue's case — all answered `{"actions": [],
    /// "confidence": 0.68, "needs_human": true}`.
    static func alwaysDeferRun(_ temp: TemporaryDirectory) throws -> (
        result: BinaryRunner.Result, report: [String: Any]?
    ) {
        let corpus = temp.file("corpora/k8s-real")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        for name in ["deliveries", "labels.yaml", "catalog.yaml"] {
            try FileManager.default.copyItem(
                atPath: Repository.path("corpora/k8s-real/\(name)"), toPath: "\(corpus)/\(name)")
        }
        // The incidents and samples the shipped replies cover.
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-dc", Repository.path("corpora/k8s-real/replies-smollm2-json.jsonl.gz")]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let shipped = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        var lines: [String] = []
        for line in String(decoding: shipped, as: UTF8.self).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let id = object["incident_id"] as! String
            let reply: [String: Any] = [
                "incident_id": id, "sample": object["sample"] as! Int, "provider": "openai", "model": "always-defer",
                "text": #"{"incident_id": "\#(id)", "actions": [], "confidence": 0.68, "needs_human": true}"#,
            ]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: reply), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: "\(corpus)/replies-defer.jsonl", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: temp.file("scenarios"), withIntermediateDirectories: true)
        let scenario = temp.file("scenarios/always-defer.yaml")
        try """
        name: always-defer
        corpus: k8s-real
        catalog: ../corpora/k8s-real/catalog.yaml
        template: \(Repository.path("scenarios/templates/seed.txt"))
        model: {provider: openai, name: always-defer}
        samples: 2
        limit: 100
        threshold: 0.7
        policy: {approval_gate: true}
        cache: replay
        match: same-event
        \(try readmeGates())
        """.write(toFile: scenario, atomically: true, encoding: .utf8)
        let result = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("s.sqlite"), "--reports", temp.file("r")])
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try? Data(contentsOf: URL(fileURLWithPath: temp.file("r/\(runId)/report.json")))
        return (result, try data.map { try JSONSerialization.jsonObject(with: $0) as! [String: Any] })
    }

    @Test func aConstantAlwaysDeferReplySetFailsTheREADMEsExampleGates() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let gates = try Self.readmeGates()
        #expect(gates.contains("min_act_recall") && gates.contains("min_lift_vs_always_defer"))
        let (result, reportObject) = try Self.alwaysDeferRun(temp)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("gate min_act_recall: FAIL"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("gate min_lift_vs_always_defer: FAIL"), "stderr: \(result.stderr)")
        // The gates a do-nothing model passed before: it sends nothing invalid and executes nothing.
        #expect(result.stderr.contains("gate max_invalid_json_rate: pass"))
        #expect(result.stderr.contains("gate max_unsafe_executions: pass"))
        let report = try #require(reportObject)

        // Counted here from the report's own tallies by label: deferring is right for every `human` and `none`
        // label (nothing done, nothing proposed), wrong for every `act` one; its route is right where the label
        // expects approve.
        let replies = report["replies"] as! Int
        #expect(replies == 200)
        let expectations = report["expectations"] as! [String: Int]
        let approveRow = (report["routeConfusion"] as! [String: [String: Int]])["approve"]!
        func count(_ object: Any?, _ key: String) -> Int {
            ((object as! [String: Any])[key] as! [String: Any])["count"] as! Int
        }
        let measures = report["measures"] as! [String: Any]
        let baselines = report["baselines"] as! [String: Any]
        let alwaysDefer = baselines["always_defer"] as! [String: Any]
        #expect(count(measures, "decision_accuracy") == expectations["human"]! + expectations["none"]!)
        #expect(count(measures, "route_accuracy") == approveRow.values.reduce(0, +))
        #expect(count(measures, "act_recall") == 0)
        #expect(((measures["act_recall"] as! [String: Any])["denominator"] as! Int) == expectations["act"]!)
        #expect(count(measures, "automation_rate") == 0)
        // The model is always-defer: the baseline measures are its own, and the lift is exactly nothing.
        for key in ["decision_accuracy", "route_accuracy", "act_recall", "automation_rate", "unsafe_executions"] {
            #expect(count(measures, key) == count(alwaysDefer, key), "\(key)")
        }
        let lift = baselines["lift_vs_always_defer"] as! [String: Any]
        #expect(lift["delta"] as! Double == 0 && lift["lower"] as! Double == 0 && lift["upper"] as! Double == 0)
        #expect(lift["clusters"] as! Int == 100 && lift["unit"] as! String == "incidents")
    }

    /// The demo's own lift over always-defer, with its interval, in every report format; the point estimate is the
    /// difference of the two decision accuracies' counts.
    @Test func theDemosLiftIsReportedWithItsInterval() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let result = try BinaryRunner.run(
            ["run", Repository.path("scenarios/demo.yaml"), "--db", temp.file("s.sqlite"), "--reports", temp.file("r")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("r/\(runId)/report.json")))) as! [String: Any]
        let replies = report["replies"] as! Int
        let baselines = report["baselines"] as! [String: Any]
        let model = (report["decisionAccuracy"] as! [String: Any])["count"] as! Int
        let deferral =
            ((baselines["always_defer"] as! [String: Any])["decision_accuracy"] as! [String: Any])["count"]
            as! Int
        let lift = baselines["lift_vs_always_defer"] as! [String: Any]
        let delta = lift["delta"] as! Double
        #expect(abs(delta - Double(model - deferral) / Double(replies)) < 1e-12)
        let lower = lift["lower"] as! Double
        let upper = lift["upper"] as! Double
        #expect(lower < delta && delta < upper)
        let markdown = try String(contentsOfFile: temp.file("r/\(runId)/report.md"), encoding: .utf8)
        let stated = String(
            format: "%+.1f pp (95%% CI %+.1f to %+.1f pp; bootstrap over %d incidents)", delta * 100, lower * 100,
            upper * 100, lift["clusters"] as! Int)
        #expect(markdown.contains("| Lift over always-defer (decision accuracy) | \(stated) |"))
        let summary = try String(contentsOfFile: temp.file("r/\(runId)/summary.md"), encoding: .utf8)
        #expect(summary.contains("| Lift over always-defer | \(stated) |"))
        let html = try String(contentsOfFile: temp.file("r/\(runId)/report.html"), encoding: .utf8)
        #expect(html.contains("Lift over always-defer"))
    }
}

import Foundation
import Testing
import TriageEvalTestSupport

/// With two samples per incident the report's intervals resample incidents: checked against a plain-Python cluster
/// bootstrap (`Fixtures/cluster_interval.py`) fed per-incident counts made here from the fixture's annotations.
@Suite(.serialized) struct ClusterIntervalTests {
    /// The fixture's replies: incident, and whether each was written to be a right decision.
    static func annotated() throws -> [(incident: String, correct: Bool)] {
        let text = try String(
            contentsOfFile: Repository.path("corpora/handwritten/replies-handwritten.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (
                object["incident_id"] as! String, (object["fixture"] as! [String: Any])["decision_correct"] as! Bool
            )
        }
    }

    /// The interval the independent script gives for per-cluster (hits, rows), clusters numbered as the report
    /// numbers them.
    static func independentInterval(_ clusters: [[Int]]) throws -> (lower: Double, upper: Double) {
        let spec = try JSONSerialization.data(withJSONObject: [
            "clusters": clusters, "resamples": 1000, "seed": 20_261_129,
        ])
        let output = try Python.run(
            try String(
                contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/cluster_interval.py"),
                encoding: .utf8),
            String(decoding: spec, as: UTF8.self))
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Double]
        return (object["lower"]!, object["upper"]!)
    }

    static func run(_ temp: TemporaryDirectory, extra: String = "") throws -> [String: Any] {
        var scenario = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), encoding: .utf8)
        scenario = scenario.replacingOccurrences(of: "../../../", with: Repository.path("") + "/") + extra
        try scenario.write(toFile: temp.file("handwritten.yaml"), atomically: true, encoding: .utf8)
        let result = try BinaryRunner.run(
            ["run", temp.file("handwritten.yaml"), "--db", temp.file("s.sqlite"), "--reports", temp.file("r")])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: temp.file("r/\(runId)/report.json")))) as! [String: Any]
    }

    static func close(_ a: Any?, _ b: Double) -> Bool { abs((a as! Double) - b) < 1e-12 }

    /// Wilson's interval of a rate over an effective number of trials, written out from its formula.
    static func wilson(_ p: Double, _ n: Double) -> (lower: Double, upper: Double) {
        let z = 1.959963984540054
        let center = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return (max(0, center - half), min(1, center + half))
    }

    /// 100 incidents × 2 samples of recorded replies (k8s-real): the decision accuracy's interval is the plain-Python
    /// bootstrap's over the incidents, fed the per-incident counts of `export`.
    @Test func twoSamplesPerIncidentResampleIncidents() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let result = try BinaryRunner.run([
            "run", Repository.path("scenarios/k8s-real-smollm2-json.yaml"), "--db", temp.file("s.sqlite"),
            "--reports", temp.file("r"),
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("r/\(runId)/report.json")))) as! [String: Any]
        let export = try BinaryRunner.run([
            "export", runId, "--db", temp.file("s.sqlite"), "--format", "jsonl", "-o", temp.file("rows.jsonl"),
        ])
        #expect(export.status == 0, "stderr: \(export.stderr)")
        var perIncident: [String: (right: Int, replies: Int)] = [:]
        for line in try String(contentsOfFile: temp.file("rows.jsonl"), encoding: .utf8).split(separator: "\n") {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard row["failure_class"] as? String != "transport" else { continue }
            let incident = row["incident_id"] as! String
            perIncident[incident, default: (0, 0)].replies += 1
            if row["decision_correct"] as! Bool { perIncident[incident, default: (0, 0)].right += 1 }
        }
        let intervals = report["intervals"] as! [String: Any]
        #expect(intervals["method"] as? String == "cluster_bootstrap" && intervals["unit"] as? String == "incident")
        #expect(intervals["clusters"] as? Int == perIncident.count && perIncident.count == 100)
        // The report numbers clusters by first sight in incident order.
        let clusters = perIncident.keys.sorted().map { [perIncident[$0]!.right, perIncident[$0]!.replies] }
        let expected = try Self.independentInterval(clusters)
        let accuracy = report["decisionAccuracy"] as! [String: Any]
        #expect(accuracy["method"] as? String == "cluster_bootstrap")
        #expect(accuracy["count"] as? Int == clusters.reduce(0) { $0 + $1[0] })
        #expect(Self.close(accuracy["lower"], expected.lower) && Self.close(accuracy["upper"], expected.upper))
    }

    /// 16 incidents × 2 samples (the hand-written fixture): too few clusters for resampling to mean much, so every
    /// rate gets Wilson's interval with each incident one observation — and a rate of 0 too.
    @Test func fewIncidentsGetWilsonOverTheIncidents() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let report = try Self.run(temp)
        let intervals = report["intervals"] as! [String: Any]
        #expect(intervals["method"] as? String == "cluster_bootstrap" && intervals["unit"] as? String == "incident")
        let replies = try Self.annotated()
        let incidents = Set(replies.map(\.incident)).count
        #expect(incidents == 16 && intervals["clusters"] as? Int == 16)
        let right = replies.count(where: \.correct)
        let accuracy = report["decisionAccuracy"] as! [String: Any]
        let expected = Self.wilson(Double(right) / Double(replies.count), Double(incidents))
        #expect(accuracy["count"] as? Int == right && accuracy["method"] as? String == "cluster_bootstrap")
        #expect(Self.close(accuracy["lower"], expected.lower) && Self.close(accuracy["upper"], expected.upper))
        // 0 of 32 automated by always-defer: upper z² / (16 + z²) = 0.1936.
        let deferral = (report["baselines"] as! [String: Any])["always_defer"] as! [String: Any]
        let automation = deferral["automation_rate"] as! [String: Any]
        #expect(automation["count"] as? Int == 0)
        let z2 = 1.959963984540054 * 1.959963984540054
        #expect(Self.close(automation["upper"], z2 / (16 + z2)))
    }

    @Test func alertTypesCanBeTheClusters() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let report = try Self.run(temp, extra: "report: {resample: alert_type}\n")
        let intervals = report["intervals"] as! [String: Any]
        let types = report["alertTypes"] as! [[String: Any]]
        #expect(intervals["unit"] as? String == "alert_type" && intervals["clusters"] as? Int == types.count)
        let lift = (report["baselines"] as! [String: Any])["lift_vs_always_defer"] as! [String: Any]
        #expect(lift["unit"] as? String == "alert types" && lift["clusters"] as? Int == types.count)
    }
}

import Foundation
import Testing
import TriageEvalTestSupport

/// Runs the built binary on the demo scenario and checks the report's numbers against values computed here from
/// the fixtures' own annotations (each hand-written reply says what it was written to produce), not by the code
/// under test.
@Suite(.serialized) struct DemoEndToEndTests {
    struct FixtureReply {
        var failureClass: String
        var route: String
        var correct: Bool
        var unsafe: Bool
        var confidence: Double?
        var isNaN: Bool
    }

    static func fixtureReplies() throws -> [FixtureReply] {
        let text = try String(
            contentsOfFile: Repository.path("corpora/handwritten/replies-handwritten.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let fixture = object["fixture"] as! [String: Any]
            let confidence = fixture["confidence"]
            return FixtureReply(
                failureClass: fixture["failure_class"] as! String,
                route: fixture["route"] as! String,
                correct: fixture["decision_correct"] as! Bool,
                unsafe: fixture["unsafe"] as! Bool,
                confidence: (confidence as? NSNumber)?.doubleValue,
                isNaN: (confidence as? String) == "NaN")
        }
    }

    @Test func demoReportNumbersMatchTheFixtures() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let result = try BinaryRunner.run(
            [
                "run", Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), "--db",
                temp.file("demo.sqlite"), "--reports",
                temp.file("reports"),
            ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(runId.hasPrefix("handwritten-"))
        let reportData = try Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json")))
        let report = try JSONSerialization.jsonObject(with: reportData) as! [String: Any]
        #expect(FileManager.default.fileExists(atPath: temp.file("reports/\(runId)/report.md")))

        let replies = try Self.fixtureReplies()
        let total = replies.count
        #expect(report["replies"] as? Int == total)
        let invalid = replies.filter { ["empty", "wrapped", "truncated", "syntax"].contains($0.failureClass) }.count
        let invalidReport = report["invalidJSON"] as! [String: Any]
        let invalidRate = invalidReport["invalid"] as! [String: Any]
        #expect(invalidRate["count"] as? Int == invalid)
        #expect(abs((invalidRate["rate"] as! Double) - Double(invalid) / Double(total)) < 1e-12)
        for name in ["schema", "notObject", "unknownAction"] {
            let failureClass = name == "notObject" ? "not_object" : name == "unknownAction" ? "unknown_action" : name
            let count = replies.filter { $0.failureClass == failureClass }.count
            #expect((invalidReport[name] as! [String: Any])["count"] as? Int == count, "\(name)")
        }
        for name in ["report.md", "report.html", "summary.md", "junit.xml"] {
            #expect(FileManager.default.fileExists(atPath: temp.file("reports/\(runId)/\(name)")), "\(name)")
        }
        // At the run's own threshold the sweep executes exactly what the run executed.
        let sweep = report["thresholdSweep"] as! [String: Any]
        let current = sweep["current"] as! [String: Any]
        #expect(
            (current["executed"] as! [String: Any])["count"] as? Int == replies.filter { $0.route == "execute" }.count)
        #expect(current["unsafe"] as? Int == replies.filter(\.unsafe).count)
        let correct = replies.filter(\.correct).count
        #expect((report["decisionAccuracy"] as! [String: Any])["count"] as? Int == correct)
        #expect(report["unsafeExecutions"] as? Int == replies.filter(\.unsafe).count)
        let routes = report["routes"] as! [String: Int]
        for route in ["execute", "approve", "escalate"] {
            #expect(routes[route] == replies.filter { $0.route == route }.count, "route \(route)")
        }
        let classes = report["failureClasses"] as! [String: Int]
        for name in Set(replies.map(\.failureClass)) {
            #expect(classes[name] == replies.filter { $0.failureClass == name }.count, "class \(name)")
        }

        // Calibration over ok replies with a finite confidence in [0, 1]; bins [k/10, (k+1)/10), last closed.
        let included = replies.filter { $0.failureClass == "ok" && $0.confidence != nil }
        let calibration = report["calibration"] as! [String: Any]
        #expect(calibration["included"] as? Int == included.count)
        let excluded = calibration["excluded"] as! [String: Int]
        #expect(excluded["non_finite_confidence"] == replies.filter(\.isNaN).count)
        #expect(excluded["not_ok"] == replies.filter { $0.failureClass != "ok" }.count)
        var bins = [(count: Int, confidence: Double, correct: Int)](repeating: (0, 0, 0), count: 10)
        for reply in included {
            let confidence = reply.confidence!
            let index = min(9, (0...9).last { confidence >= Double($0) / 10 }!)
            bins[index].count += 1
            bins[index].confidence += confidence
            bins[index].correct += reply.correct ? 1 : 0
        }
        let reportedBins = calibration["bins"] as! [[String: Any]]
        #expect(reportedBins.map { $0["count"] as! Int } == bins.map(\.count))
        var ece = 0.0
        for bin in bins where bin.count > 0 {
            ece +=
                Double(bin.count) / Double(included.count)
                * abs(Double(bin.correct) / Double(bin.count) - bin.confidence / Double(bin.count))
        }
        #expect(abs((calibration["ece"] as! Double) - ece) < 1e-12)
        let brier = included.map { pow($0.confidence! - ($0.correct ? 1 : 0), 2) }.reduce(0, +) / Double(included.count)
        #expect(abs((calibration["brier"] as! Double) - brier) < 1e-12)

        // A second run on the same store re-reads nothing and gives the same numbers.
        let again = try BinaryRunner.run(
            [
                "run", Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), "--db",
                temp.file("demo.sqlite"), "--reports",
                temp.file("reports"),
            ])
        #expect(again.status == 0)
        #expect(!again.stderr.contains("loaded corpus"))
    }

    @Test func reportCommandRewritesTheSameReport() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("demo.sqlite")
        let run = try BinaryRunner.run([
            "run", Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), "--db", db, "--reports",
            temp.file("a"),
        ])
        let runId = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report = try BinaryRunner.run(
            ["report", runId, "--reports", temp.file("b")], environment: ["TRIAGE_EVAL_DB": db])
        #expect(report.status == 0, "stderr: \(report.stderr)")
        let first = try Data(contentsOf: URL(fileURLWithPath: temp.file("a/\(runId)/report.json")))
        let second = try Data(contentsOf: URL(fileURLWithPath: temp.file("b/\(runId)/report.json")))
        #expect(first == second)
        let unknown = try BinaryRunner.run(["report", "no-such-run", "--db", db, "--reports", temp.file("b")])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run 'no-such-run'"))
    }
}

/// `export` gives every row needed to recompute the report's numbers with other tools.
@Suite struct ExportEndToEndTests {
    @Test func theReportCanBeRecomputedFromTheCSVExport() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("demo.sqlite")
        let run = try BinaryRunner.run(
            [
                "run", Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), "--db", db, "--reports",
                temp.file("reports"),
            ])
        let runId = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let export = try BinaryRunner.run(["export", runId, "--db", db, "--format", "csv", "-o", temp.file("r.csv.gz")])
        #expect(export.status == 0, "\(export.stderr)")
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gunzip.arguments = ["-d", temp.file("r.csv.gz")]
        try gunzip.run()
        gunzip.waitUntilExit()
        let lines = try String(contentsOfFile: temp.file("r.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == 32)
        func column(_ name: String) -> [String] { rows.map { $0[header.firstIndex(of: name)!] } }
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json"))))
            as! [String: Any]
        let invalid = column("failure_class").filter { ["empty", "wrapped", "truncated", "syntax"].contains($0) }.count
        #expect(((report["invalidJSON"] as! [String: Any])["invalid"] as! [String: Any])["count"] as? Int == invalid)
        #expect(
            (report["decisionAccuracy"] as! [String: Any])["count"] as? Int
                == column("decision_correct").filter { $0 == "true" }.count)
        #expect(report["unsafeExecutions"] as? Int == column("unsafe").filter { $0 == "true" }.count)
        #expect(column("confidence").contains("NaN"))
        let jsonl = try BinaryRunner.run(["export", runId, "--db", db])
        let first =
            try JSONSerialization.jsonObject(with: Data(jsonl.stdout.split(separator: "\n")[1].utf8)) as! [String: Any]
        #expect(first["confidence"] as? String == "NaN")
        #expect(try BinaryRunner.run(["export", "nope", "--db", db]).status == 2)
    }
}

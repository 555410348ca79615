import Foundation
import Testing
import TriageEvalTestSupport

/// `corpora/k8s-week` is what issue 12 asks of it, and its shipped scenarios replay it offline with the numbers
/// the corpus itself gives: counts, production hours and the deploy timeline are read from the files by Python,
/// independently of triage-eval, and compared with the report of `scenarios/k8s-week-*.yaml`.
@Suite(.serialized) struct K8sWeekCorpusTests {
    /// The corpus measured by Python: deliveries, firing and resolved, alert types, the production time between
    /// the first and last delivery (the sidecar's receive times × the time scale) and the deploys' bounds.
    static func measured() throws -> [String: Any] {
        let script = """
            import gzip, json, sys, datetime
            root = sys.argv[1]
            scale = float([l.split(":")[1] for l in open(root + "/corpus.yaml") if l.startswith("time_scale:")][0])
            stem = root + "/deliveries/alertmanager-0.25-k8s-week"
            bodies = [json.loads(l) for l in gzip.open(stem + ".jsonl.gz", "rt")]
            heads = [json.loads(l) for l in gzip.open(stem + ".headers.jsonl.gz", "rt")]
            assert len(bodies) == len(heads)
            t = [h["recv_unix"] for h in heads]
            origin = t[0]
            def iso(u):
                return datetime.datetime.fromtimestamp(u, datetime.timezone.utc)
            deploys = [json.loads(l) for l in open(root + "/deploys.jsonl")]
            def parse(s):
                return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
            start, end = iso(origin), iso(origin + (t[-1] - origin) * scale)
            print(json.dumps({
                "scale": scale,
                "deliveries": len(bodies),
                "resolved": sum(b["status"] == "resolved" for b in bodies),
                "alertTypes": len({a["labels"]["alertname"] for b in bodies for a in b["alerts"]}),
                "hours": (t[-1] - origin) * scale / 3600,
                "deploys": len(deploys),
                "deployFields": sorted({k for d in deploys for k in d}),
                "deploysInside": all(start <= parse(d["start"]) < parse(d["end"]) <= end for d in deploys),
            }))
            """
        let output = try Python.run(script, Repository.path("corpora/k8s-week"))
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
    }

    static func report(_ scenario: String, db: String, temp: TemporaryDirectory) throws -> [String: Any] {
        let result = try BinaryRunner.run(
            ["run", Repository.path("scenarios/\(scenario)"), "--db", db, "--reports", temp.file("reports")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("calls 0"), "\(scenario) called a model")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func theCorpusIsTheWeekTheIssueAsksFor() throws {
        let corpus = try Self.measured()
        #expect(corpus["scale"] as? Double == 120)
        #expect(corpus["hours"] as! Double >= 48)
        #expect(corpus["deliveries"] as! Int >= 1_000)
        #expect(corpus["alertTypes"] as! Int >= 25)
        #expect(corpus["deploys"] as! Int >= 8)
        #expect(
            corpus["deployFields"] as? [String] == ["cluster", "end", "namespace", "revision", "service", "start"])
        #expect(corpus["deploysInside"] as? Bool == true)
    }

    @Test func theShippedScenariosReplayItWithTheCorpusNumbers() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let corpus = try Self.measured()
        let db = temp.file("week.sqlite")
        let all = try Self.report("k8s-week-pipeline.yaml", db: db, temp: temp)
        let coverage = all["coverage"] as! [String: Any]
        #expect(coverage["incidents"] as! Int >= 150)
        #expect(coverage["labelled"] as? Int == coverage["incidents"] as? Int)
        let pipeline = all["pipeline"] as! [String: Any]
        #expect(pipeline["messages"] as? Int == corpus["deliveries"] as? Int)
        #expect(abs((pipeline["productionHours"] as! Double) - (corpus["hours"] as! Double)) < 0.001)
        #expect(pipeline["timeScale"] as? Double == 120)
        #expect(pipeline["samplesPerMessage"] as? Int == 1)
        let kinds = Dictionary(
            uniqueKeysWithValues: (pipeline["kinds"] as! [[String: Any]]).map {
                ($0["kind"] as! String, ($0["messages"] as! Int, $0["planned"] as! Int))
            })
        #expect(kinds.values.map(\.0).reduce(0, +) == corpus["deliveries"] as? Int)
        #expect(kinds["resolved"]!.0 == corpus["resolved"] as? Int)
        #expect(kinds.values.allSatisfy { $0.0 > 0 })
        // Every kind planned; only a resolved message no incident took is not.
        #expect(pipeline["planned"] as! Int == (pipeline["messages"] as! Int) - (pipeline["withoutIncident"] as! Int))
        // One reply per distinct message: every repeat takes its first reply again.
        #expect(pipeline["repliesReused"] as! Int >= kinds["repeat"]!.1)

        let newOnly = try Self.report("k8s-week-new-only.yaml", db: db, temp: temp)
        let dropped = newOnly["pipeline"] as! [String: Any]
        #expect(dropped["messages"] as? Int == pipeline["messages"] as? Int)
        #expect(dropped["planned"] as? Int == kinds["first"]!.1 + kinds["update"]!.1)
        #expect(dropped["executesOnResolved"] as? Int == 0)
    }
}

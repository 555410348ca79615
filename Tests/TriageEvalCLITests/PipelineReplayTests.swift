import Foundation
import Testing
import TriageEvalTestSupport

/// The pipeline replay (issue 12) through the built binary, on the hand-built timeline of
/// `Fixtures/pipeline/make_timeline.py` (its docstring has the table). Every number checked here is worked out by
/// hand from that table; the ids and user-message hashes come from the script's own Python implementation of
/// production's event and `json.dumps`.
@Suite struct PipelineReplayTests {
    /// The corpus, a scenario with `plan` (nil: no `plan:` key, all four kinds) and `pipeline.samples`, and the
    /// incident ids.
    static func setUp(
        _ temp: TemporaryDirectory, plan: String? = nil, samples: Int? = nil, sidecar: Bool = true,
        stragglers: Bool = false, limit: Int? = nil, baseURL: String? = nil
    ) throws -> (scenario: String, a: String, b: String) {
        let section = [plan.map { "  plan: \($0)" }, samples.map { "  samples: \($0)" }].compactMap { $0 }
        let corpus = temp.file("corpora/timeline")
        let script = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/pipeline/make_timeline.py"),
            encoding: .utf8)
        let options = [sidecar ? nil : "--no-sidecar", stragglers ? "--stragglers" : nil].compactMap { $0 }
        let ids = try Python.run(script, arguments: [corpus] + options)
        let parsed = try JSONSerialization.jsonObject(with: Data(ids.utf8)) as! [String: String]
        try FileManager.default.copyItem(
            atPath: Repository.path("corpora/handwritten/catalog.yaml"), toPath: corpus + "/catalog.yaml")
        let scenario = try temp.write(
            "scenarios/timeline.yaml",
            """
            name: timeline
            corpus: timeline
            catalog: ../corpora/timeline/catalog.yaml
            model:
              provider: openai
              name: fixture
              pricing: {input: 3, output: 15}
            \(baseURL.map { "  base_url: \($0)\n" } ?? "")samples: 1
            \(limit.map { "limit: \($0)\n" } ?? "")match: same-event
            cache: \(baseURL == nil ? "replay" : "record")
            concurrency: 1
            retry: {max_attempts: 1}
            pipeline:\(section.isEmpty ? " {}" : "\n" + section.joined(separator: "\n"))

            """)
        return (scenario, parsed["a"]!, parsed["b"]!)
    }

    static func run(_ temp: TemporaryDirectory, _ scenario: String) throws -> (BinaryRunner.Result, String) {
        let result = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("s.sqlite"), "--reports", temp.file("reports")])
        return (result, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `export RUN --pipeline` (JSON Lines), one object per message.
    static func exportedRows(_ temp: TemporaryDirectory, _ runId: String) throws -> [[String: Any]] {
        let export = try BinaryRunner.run(["export", runId, "--pipeline", "--db", temp.file("s.sqlite")])
        #expect(export.status == 0, "\(export.stderr)")
        return try export.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    static func pipelineSection(_ temp: TemporaryDirectory, _ runId: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json")))
        let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return try #require(report["pipeline"] as? [String: Any])
    }

    @Test func everyMessageIsReplayedInReceiveOrderWithTheNumbersWorkedByHand() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, a, b) = try Self.setUp(temp)
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let pipeline = try Self.pipelineSection(temp, runId)

        #expect(pipeline["messages"] as? Int == 7)
        #expect(pipeline["planned"] as? Int == 7)
        #expect(pipeline["plan"] as? [String] == ["first", "repeat", "update", "resolved"])
        let kinds = (pipeline["kinds"] as! [[String: Any]]).map {
            "\($0["kind"]!)=\($0["messages"]!)/\($0["planned"]!)"
        }
        #expect(kinds == ["first=2/2", "repeat=2/2", "update=1/1", "resolved=2/2"])
        // Line 5 is the third planning of A's first message; the cache holds two samples of it.
        #expect(pipeline["repliesReused"] as? Int == 1)
        // 180 recorded seconds at 60x: 3 production hours, so a day is 8 of them.
        #expect(pipeline["timeScale"] as? Double == 60)
        #expect(pipeline["productionHours"] as? Double == 3)
        #expect(pipeline["start"] as? String == "1970-01-01T00:16:40Z")
        #expect(pipeline["end"] as? String == "1970-01-01T03:16:40Z")
        #expect(pipeline["messagesPerDay"] as? Double == 56)
        let volume = try #require(pipeline["volume"] as? [String: Any])
        #expect(volume["calls"] as? Int == 7)
        #expect(volume["inputTokens"] as? Int == 700)
        #expect(volume["outputTokens"] as? Int == 70)
        // (700 × 3 + 70 × 15) / 1e6 USD.
        #expect(abs((volume["costUSD"] as! Double) - 0.00315) < 1e-12)
        let perDay = try #require(pipeline["perDay"] as? [String: Any])
        #expect(perDay["calls"] as? Int == 56)
        #expect(perDay["inputTokens"] as? Int == 5600)
        #expect(abs((perDay["costUSD"] as! Double) - 0.0252) < 1e-12)
        // B's first reply is not JSON: 1 of 7.
        let invalid = try #require(pipeline["invalidJSON"] as? [String: Any])
        #expect(invalid["count"] as? Int == 1)
        #expect(invalid["denominator"] as? Int == 7)
        let routes = try #require(pipeline["productionRoutesByKind"] as? [String: [String: Int]])
        #expect(routes["first"] == ["execute": 1, "escalate": 1])
        #expect(routes["repeat"] == ["approve": 1, "execute": 1])
        #expect(routes["update"] == ["approve": 1])
        #expect(routes["resolved"] == ["execute": 1, "approve": 1])
        #expect(pipeline["executesOnResolved"] as? Int == 1)
        #expect(pipeline["executesPerIncident"] as? [String: Int] == ["0": 1, "3": 1])
        let most = try #require(pipeline["mostExecuted"] as? [[String: Any]])
        #expect(most.count == 1)
        #expect(most.first?["incidentId"] as? String == a)
        #expect(most.first?["executes"] as? Int == 3)
        #expect(most.first?["planned"] as? Int == 5)
        #expect(most.first?["onResolved"] as? Int == 1)
        #expect(pipeline["decisionIdMismatches"] as? Int == 1)
        #expect(pipeline["decisionIdMismatchExecutes"] as? Int == 0)

        // The export: one row per message in receive order (B's firing first, though it is line 2), production
        // time, kinds, samples and reuse.
        let rows = try Self.exportedRows(temp, runId)
        #expect(
            rows.map { $0["kind"] as! String } == [
                "first", "first", "repeat", "update", "repeat", "resolved", "resolved",
            ])
        #expect(rows.map { $0["incident_id"] as! String } == [b, a, a, a, a, a, b])
        #expect(rows.map { $0["sample"] as! Int } == [0, 0, 1, 0, 0, 0, 0])
        #expect(rows.map { $0["reply_reused"] as! Bool } == [false, false, false, false, true, false, false])
        #expect(
            rows.map { $0["production_route"] as! String } == [
                "escalate", "execute", "approve", "approve", "execute", "execute", "approve",
            ])
        // Recorded 1000 + 30 s is production 1000 + 30 min.
        #expect(rows[3]["received_at"] as? String == "1970-01-01T00:46:40.000Z")
        #expect(rows[3]["recorded_at"] as? Double == 1030)
        #expect(rows[6]["decision_incident_id"] as? String == "inc-other")
        #expect(rows.map { $0["seq"] as! Int } == Array(0..<7))

        let markdown = try String(contentsOfFile: temp.file("reports/\(runId)/report.md"), encoding: .utf8)
        #expect(markdown.contains("## Pipeline"))
        #expect(markdown.contains("recorded 60× fast"))
        let html = try String(contentsOfFile: temp.file("reports/\(runId)/report.html"), encoding: .utf8)
        #expect(html.contains("<h2>Pipeline</h2>"))
    }

    /// A message that comes after its incident resolved (a late retry of A's first body) is still a repeat of it,
    /// and its planning is counted on from the earlier ones — the replay let A's state go at its resolved
    /// message and reads it again here: the fourth planning of A's first user message takes sample 3 mod 2 = 1.
    /// A resolved body no incident took is a message of no incident, never planned; received at the same second
    /// as B's resolved one, it comes after it, as in the file.
    @Test func stragglersKeepTheirIncidentsCountsAndFileOrderBreaksTies() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, a, b) = try Self.setUp(temp, stragglers: true)
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.exportedRows(temp, runId)
        #expect(
            rows.map { $0["kind"] as! String } == [
                "first", "first", "repeat", "update", "repeat", "resolved", "repeat", "resolved", "resolved",
            ])
        #expect(rows.map { $0["incident_id"] as? String } == [b, a, a, a, a, a, a, b, nil])
        #expect((rows.last?["source"] as? String)?.hasSuffix("/timeline.jsonl:9") == true)
        #expect(rows.map { $0["planned"] as! Bool }.filter { $0 }.count == 8)
        #expect(rows.map { $0["occurrence"] as? Int } == [0, 0, 1, 0, 2, 0, 3, 0, nil])
        #expect(rows.map { $0["sample"] as? Int } == [0, 0, 1, 0, 0, 0, 1, 0, nil])
        #expect(
            rows.map { $0["reply_reused"] as! Bool } == [false, false, false, false, true, false, true, false, false])
        #expect(rows[6]["production_route"] as? String == "approve")
        let pipeline = try Self.pipelineSection(temp, runId)
        #expect(pipeline["repliesReused"] as? Int == 2)
        #expect(pipeline["messages"] as? Int == 9)
        #expect(pipeline["planned"] as? Int == 8)
    }

    /// Of several stored replies to one sample of a user message, the replay takes the newest — except that one
    /// recorded under another system prompt (stale) never displaces one under the current prompt: the rule of the
    /// incident replay's cache lookup, here read per incident. The replies added are described in
    /// `make_timeline.py --extra-replies`.
    @Test func theNewestReplyWinsButAStaleOneNeverDisplacesACurrentOne() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp)
        let (first, firstRun) = try Self.run(temp, scenario)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            try Self.exportedRows(temp, firstRun).map { $0["production_route"] as! String }[3...5] == [
                "approve", "execute", "execute",
            ])
        let current = try Python.run(
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                + "'SELECT systemPromptSha256 FROM run WHERE id = ?', (sys.argv[2],)).fetchone()[0])",
            temp.file("s.sqlite"), firstRun)
        let script = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/pipeline/make_timeline.py"),
            encoding: .utf8)
        try Python.run(script, temp.file("corpora/timeline"), "--extra-replies", current)
        let (second, secondRun) = try Self.run(temp, scenario)
        #expect(second.status == 0, "\(second.stderr)")
        let rows = try Self.exportedRows(temp, secondRun)
        // A's update (message 3) takes the newer stale reply; A's resolved message (5) the current one.
        #expect(rows.map { $0["production_route"] as! String }[3...5] == ["execute", "execute", "approve"])
        #expect(rows[3]["confidence"] as? Double == 0.95)
        #expect(rows[5]["confidence"] as? Double == 0.9)
    }

    /// A scenario's `limit` replays the first incidents by id (B's id sorts before A's): their messages alone,
    /// numbered among themselves, on the corpus's clock.
    @Test func aLimitReplaysTheMessagesOfItsIncidentsAlone() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, a, b) = try Self.setUp(temp, limit: 1)
        #expect(b < a)
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.exportedRows(temp, runId)
        #expect(rows.map { $0["kind"] as! String } == ["first", "resolved"])
        #expect(rows.map { $0["incident_id"] as? String } == [b, b])
        #expect(rows.map { $0["seq"] as! Int } == [0, 1])
        // B's resolved message: recorded 1000 + 180 s, production 1000 + 180 min.
        #expect(rows[1]["received_at"] as? String == "1970-01-01T03:16:40.000Z")
        let pipeline = try Self.pipelineSection(temp, runId)
        #expect(pipeline["messages"] as? Int == 2)
        #expect(pipeline["planned"] as? Int == 2)
    }

    /// `pipeline.plan` leaves kinds out before the planner: they are counted, never planned, and need no reply.
    @Test func planChoosesTheKindsProductionPlans() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp, plan: "[first, update]")
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let pipeline = try Self.pipelineSection(temp, runId)
        #expect(pipeline["messages"] as? Int == 7)
        #expect(pipeline["planned"] as? Int == 3)
        #expect(pipeline["repliesReused"] as? Int == 0)
        #expect(pipeline["executesOnResolved"] as? Int == 0)
        #expect((pipeline["volume"] as? [String: Any])?["calls"] as? Int == 3)
        #expect(pipeline["plan"] as? [String] == ["first", "update"])
    }

    @Test func anUnknownKindIsAnErrorNamingTheKey() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp, plan: "[first, flap]")
        let (result, _) = try Self.run(temp, scenario)
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipeline.plan"), "\(result.stderr)")
        #expect(result.stderr.contains("unknown message kind 'flap'"), "\(result.stderr)")
    }

    /// A pipeline replay takes its replies from the cache or records the missing ones: another cache mode is a
    /// set-up error before a run is stored.
    @Test func anotherCacheModeIsASetUpError() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // A base URL that nothing is called at: the check comes first.
        let (scenario, _, _) = try Self.setUp(temp, baseURL: "http://127.0.0.1:9/v1")
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
        try text.replacingOccurrences(of: "cache: record", with: "cache: refresh")
            .write(toFile: scenario, atomically: true, encoding: .utf8)
        let (result, _) = try Self.run(temp, scenario)
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("cache: refresh would ask the model again for every planning"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.file("reports")))
    }

    /// A label file's error on a corpus's first run is reported before the pipeline replay computes and stores the
    /// corpus's user-message digests (which the next, good run does).
    @Test func aLabelErrorComesBeforeTheDigestsAreStored() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp)
        let labels = temp.file("corpora/timeline/labels.yaml")
        let good = try String(contentsOfFile: labels, encoding: .utf8)
        try "rules:\n  - match: {alertname: X}\n    expect: maybe\n".write(
            toFile: labels, atomically: true, encoding: .utf8)
        let (bad, _) = try Self.run(temp, scenario)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("must be act, human or none"), "\(bad.stderr)")
        func digests() throws -> String {
            try Python.run(
                "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM deliveryEvent')"
                    + ".fetchone()[0])", arguments: [temp.file("s.sqlite")]
            ).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try digests() == "0")
        try good.write(toFile: labels, atomically: true, encoding: .utf8)
        let (fixed, _) = try Self.run(temp, scenario)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        // One per stored delivery: the timeline's seven lines are five bodies (lines 3 and 5 repeat line 1's).
        #expect(try digests() == "5")
    }

    /// A corpus without receive times cannot be replayed in time order: exit 2, naming the corpus and how to
    /// supply them, before a run is stored.
    @Test func aCorpusWithoutReceiveTimesIsASetUpError() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp, sidecar: false)
        let (result, _) = try Self.run(temp, scenario)
        #expect(result.status == 2)
        #expect(result.stderr.contains("corpus 'timeline': 7 of 7 deliveries have no receive time"), "\(result.stderr)")
        #expect(result.stderr.contains("triage-eval capture"))
        #expect(result.stderr.contains("headers.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: temp.file("reports")))
    }

    /// A planned message whose user message has no reply at all is named, with its kind and incident.
    @Test func aMessageWithoutAReplyIsNamed() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, b) = try Self.setUp(temp)
        // Drop the reply to B's resolved message (the last line of the replies file).
        let replies = temp.file("corpora/timeline/replies-timeline.jsonl")
        let lines = try String(contentsOfFile: replies, encoding: .utf8).split(separator: "\n").dropLast()
        try (lines.joined(separator: "\n") + "\n").write(toFile: replies, atomically: true, encoding: .utf8)
        let (result, _) = try Self.run(temp, scenario)
        #expect(result.status == 2)
        #expect(result.stderr.contains("1 of 7 planned messages have no stored reply"), "\(result.stderr)")
        #expect(result.stderr.contains("message 6 (resolved) of \(b)"), "\(result.stderr)")
    }

    /// A replay keeps each delivery's user-message digest in the store (`deliveryEvent`) and a rerun reads it
    /// instead of encoding the event again: the digests equal the SHA-256 of Python's `json.dumps` of each stored
    /// body with its incident id inserted; a digest is what a rerun looks replies up by (a wrong one leaves that
    /// message without a reply); one of another encoding is never read. Beside each digest are the delivery's
    /// deploy targets, equal to its alerts' labels as Python reads them; a row without them (a store from before
    /// them) is computed again. The rows a replay writes without checking their foreign keys one by one pass
    /// `PRAGMA foreign_key_check`.
    @Test func aRerunFindsRepliesByTheDigestsTheStoreKeeps() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, b) = try Self.setUp(temp)
        let (first, firstRun) = try Self.run(temp, scenario)
        #expect(first.status == 0, "\(first.stderr)")
        let checked = try Python.run(
            """
            import hashlib, json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            digests = {(d, i): (e, s) for d, i, e, s, t in db.execute(
                "SELECT deliveryId, incidentId, encoding, userSha256, targets FROM deliveryEvent")}
            stored = {(d, i): t for d, i, t in db.execute("SELECT deliveryId, incidentId, targets FROM deliveryEvent")}
            def targets(body):
                # The distinct [service, namespace, deployment, cluster] of the alerts' labels (a string or null).
                found = []
                alerts = json.loads(body).get("alerts")
                for alert in alerts if isinstance(alerts, list) else []:
                    if not isinstance(alert, dict):
                        continue
                    labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
                    target = [labels.get(k) if isinstance(labels.get(k), str) else None
                              for k in ("service", "namespace", "deployment", "cluster")]
                    if target not in found:
                        found.append(target)
                return found
            deliveries = db.execute("SELECT id, incidentId, body FROM delivery WHERE incidentId IS NOT NULL").fetchall()
            for delivery, incident, body in deliveries:
                user = json.dumps({"incident_id": incident, **json.loads(body)})
                assert digests[(delivery, incident)] == (1, hashlib.sha256(user.encode()).hexdigest()), delivery
                assert json.loads(stored[(delivery, incident)]) == targets(body), (delivery, stored[(delivery, incident)])
                assert targets(body), delivery
            assert len(digests) == len(deliveries), (len(digests), len(deliveries))
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
            print(len(digests))
            """, temp.file("s.sqlite"))
        // Lines 1, 2, 4, 6 and 7 are distinct bodies with an incident (3 and 5 repeat line 1's bytes).
        #expect(checked.trimmingCharacters(in: .whitespacesAndNewlines) == "5")

        // B's resolved delivery under a wrong digest: its message has no reply.
        let sql = """
            UPDATE deliveryEvent SET userSha256 = '\(String(repeating: "0", count: 64))', encoding = ENCODING
            WHERE incidentId = '\(b)' AND deliveryId = (SELECT max(id) FROM delivery WHERE incidentId = '\(b)')
            """
        let update = "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.execute(sys.argv[2])\ndb.commit()\n"
        _ = try Python.run(update, temp.file("s.sqlite"), sql.replacingOccurrences(of: "ENCODING", with: "1"))
        let (wrong, _) = try Self.run(temp, scenario)
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("message 6 (resolved) of \(b)"), "\(wrong.stderr)")

        // The same row under another encoding is ignored: the event is encoded again and the replay is whole.
        _ = try Python.run(update, temp.file("s.sqlite"), sql.replacingOccurrences(of: "ENCODING", with: "0"))
        let (again, againRun) = try Self.run(temp, scenario)
        #expect(again.status == 0, "\(again.stderr)")
        let rerun = try Self.exportedRows(temp, againRun) as NSArray
        #expect(rerun.isEqual(to: try Self.exportedRows(temp, firstRun)))
        #expect(rerun.count == 7)

        // Rows without targets, as a store from before them has: computed again, digests and targets.
        let before = try Python.run(
            "import sqlite3, sys\nprint(sqlite3.connect(sys.argv[1]).execute("
                + "'SELECT group_concat(targets, \"|\") FROM (SELECT targets FROM deliveryEvent ORDER BY deliveryId)'"
                + ").fetchone()[0])", temp.file("s.sqlite"))
        _ = try Python.run(update, temp.file("s.sqlite"), "UPDATE deliveryEvent SET targets = NULL")
        let (upgraded, upgradedRun) = try Self.run(temp, scenario)
        #expect(upgraded.status == 0, "\(upgraded.stderr)")
        #expect(upgraded.stderr.contains("5 user-message digests stored"), "\(upgraded.stderr)")
        let after = try Python.run(
            "import sqlite3, sys\nprint(sqlite3.connect(sys.argv[1]).execute("
                + "'SELECT group_concat(targets, \"|\") FROM (SELECT targets FROM deliveryEvent ORDER BY deliveryId)'"
                + ").fetchone()[0])", temp.file("s.sqlite"))
        #expect(after == before && !before.contains("None"), "\(before) \(after)")
        #expect(
            (try Self.exportedRows(temp, upgradedRun) as NSArray).isEqual(to: try Self.exportedRows(temp, firstRun)))
    }

    /// `cache: record` calls the model once per planning whose sample is not stored — the n-th planning of a
    /// message asks for sample n — and never twice for a request the incident replay makes; a second run calls
    /// nothing.
    @Test func recordingCallsOncePerPlanning() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: [:], directory: temp)
        defer { server.stop() }
        let (scenario, a, b) = try Self.setUp(temp, baseURL: server.baseURL)
        try FileManager.default.removeItem(atPath: temp.file("corpora/timeline/replies-timeline.jsonl"))
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        // Seven plannings, seven distinct (message, sample) requests: A's first message three times (samples 0,
        // 1, 2), its update, its resolved, B's first and resolved. Samples 0 of the two first messages are the
        // incident replay's own calls.
        let calls = try server.requests()
        #expect(calls.count == 7)
        #expect(calls.filter { $0["incident_id"] as? String == a }.count == 5)
        #expect(calls.filter { $0["incident_id"] as? String == b }.count == 2)
        let pipeline = try Self.pipelineSection(temp, runId)
        #expect(pipeline["planned"] as? Int == 7)
        #expect(pipeline["repliesReused"] as? Int == 0)
        let rows = try Self.exportedRows(temp, runId)
        #expect(rows.map { $0["sample"] as! Int } == [0, 0, 1, 0, 2, 0, 0])
        #expect(rows.allSatisfy { $0["failure_class"] as? String == "ok" })

        let (again, _) = try Self.run(temp, scenario)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try server.requests().count == 7)
        // `cache export --run` ships every reply the run judged: the two its incidents took and the five only
        // its messages did.
        let export = try BinaryRunner.run(["cache", "export", "--run", runId, "--db", temp.file("s.sqlite")])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.split(separator: "\n").count == 7)
    }

    /// With `pipeline.samples: 1`, recording calls the model once per distinct user message — five here: A's
    /// first message, update and resolved, B's first and resolved — and the second and third plannings of A's first
    /// message take its sample 0 again, counted as reused.
    @Test func samplesPerMessageCapsTheRecording() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: [:], directory: temp)
        defer { server.stop() }
        let (scenario, a, _) = try Self.setUp(temp, samples: 1, baseURL: server.baseURL)
        try FileManager.default.removeItem(atPath: temp.file("corpora/timeline/replies-timeline.jsonl"))
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try server.requests().count == 5)
        let pipeline = try Self.pipelineSection(temp, runId)
        #expect(pipeline["planned"] as? Int == 7)
        #expect(pipeline["repliesReused"] as? Int == 2)
        let rows = try Self.exportedRows(temp, runId)
        #expect(rows.map { $0["sample"] as! Int } == [0, 0, 0, 0, 0, 0, 0])
        #expect(rows.map { $0["reply_reused"] as! Bool } == [false, false, true, false, true, false, false])
        #expect(rows.filter { $0["incident_id"] as? String == a && $0["reply_reused"] as! Bool }.count == 2)
        #expect(rows.allSatisfy { $0["failure_class"] as? String == "ok" })
    }

    @Test func samplesPerMessageBelowOneIsAnErrorNamingTheKey() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp, samples: 0)
        let (result, _) = try Self.run(temp, scenario)
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipeline.samples"), "\(result.stderr)")
    }

    /// A call that fails leaves its messages as transport failures in a complete run; `run --resume` calls again
    /// and rewrites the pipeline replay with the reply.
    @Test func aFailedCallIsRetriedByResume() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, b) = try Self.setUp(temp, baseURL: "http://127.0.0.1:1")
        try FileManager.default.removeItem(atPath: temp.file("corpora/timeline/replies-timeline.jsonl"))
        // B's first call (its first message, sample 0, made by the incident replay) fails once.
        let server = try FakeProvider(script: ["incidents": [b: [["status": 500], [:]]]], directory: temp)
        defer { server.stop() }
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
            .replacingOccurrences(of: "http://127.0.0.1:1", with: server.baseURL)
        try text.write(toFile: scenario, atomically: true, encoding: .utf8)
        let (result, runId) = try Self.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        func firstOfB() throws -> [String: Any]? {
            try Self.exportedRows(temp, runId).first {
                $0["incident_id"] as? String == b && $0["kind"] as? String == "first"
            }
        }
        #expect(try firstOfB()?["failure_class"] as? String == "transport")
        #expect(try server.requests().count == 7)
        let resumed = try BinaryRunner.run(
            ["run", "--resume", runId, "--db", temp.file("s.sqlite"), "--reports", temp.file("reports")])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try server.requests().count == 8)
        #expect(try firstOfB()?["failure_class"] as? String == "ok")
        #expect(try Self.pipelineSection(temp, runId)["messages"] as? Int == 7)
    }

    /// What a user reads: the Pipeline section of report.md and the CSV export, against golden files
    /// (`Fixtures/snapshots/pipeline/`; the scratch folder's path written as TEMP).
    @Test func theSectionAndTheExportMatchTheirGoldens() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try Self.setUp(temp)
        let result = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("s.sqlite"), "--reports", temp.file("reports")],
            environment: ["SOURCE_DATE_EPOCH": "1795947300"])
        #expect(result.status == 0, "\(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let markdown = try String(contentsOfFile: temp.file("reports/\(runId)/report.md"), encoding: .utf8)
        let section = try #require(markdown.range(of: "## Pipeline"))
        let end = markdown.range(of: "\n## ", range: section.upperBound..<markdown.endIndex)?.lowerBound
        Snapshot.assert(
            String(markdown[section.lowerBound..<(end ?? markdown.endIndex)]) + "\n",
            matches: Repository.path("Tests/TriageEvalCLITests/Fixtures/snapshots/pipeline/section.md"))
        let export = try BinaryRunner.run(
            ["export", runId, "--pipeline", "--format", "csv", "--db", temp.file("s.sqlite")])
        #expect(export.status == 0, "\(export.stderr)")
        Snapshot.assert(
            export.stdout.replacingOccurrences(of: temp.path, with: "TEMP"),
            matches: Repository.path("Tests/TriageEvalCLITests/Fixtures/snapshots/pipeline/export.csv"))
    }
}

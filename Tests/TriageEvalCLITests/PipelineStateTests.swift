import Foundation
import Testing
import TriageEvalTestSupport

/// The pipeline's state rules (issue 14) through the built binary, on the hand-built timeline of
/// `Fixtures/pipeline/make_timeline.py` with the seed's rules. No manifests: each action of a decision is one
/// Workflow of its catalog template (restart_pods: `timeout: 5m`, so it runs 300 s). Worked by hand, with t the
/// production seconds after the first message (recorded offset × 60):
///
///     t       message            route     Workflow                         key remediation:A:restart_pods
///     0       B first            escalate  —
///     600     A first            execute   W1 runs 600–900: correct         set, expires 2400
///     1200    A repeat           approve   approved at 1500 (label): W2     held: exits
///     1800    A update           approve   approved at 2100: W3             held: exits
///     2400    A repeat (reused)  execute   W4                               held (2400 ≤ 2400): exits
///     7200    A resolved         execute   W5 runs 7200–7500: on_resolved,  set after expiry
///                                          duplicate (W1's call again)
///     10800   B resolved         approve   rejected at 11100 (B is human)
@Suite struct PipelineStateTests {
    @Test func theSeedsRulesGiveTheNumbersWorkedByHand() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, a, b) = try PipelineReplayTests.setUp(temp)
        let (result, runId) = try PipelineReplayTests.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let pipeline = try PipelineReplayTests.pipelineSection(temp, runId)
        let state = try #require(pipeline["state"] as? [String: Any])
        let workflows = try #require(state["workflows"] as? [String: Int])
        #expect(
            workflows == [
                "dispatched": 5, "viaExecute": 3, "viaApprove": 2, "suppressedByDeploy": 0,
                "suppressedByIdempotency": 3, "executed": 2,
            ])
        let idempotency = try #require(state["idempotency"] as? [String: Int])
        #expect(
            idempotency == [
                "checked": 5, "alreadyInProgress": 3, "prevented": 3, "reExecutionsAfterExpiry": 1,
                "wrongSuppressions": 0,
            ])
        let approvals = try #require(state["approvals"] as? [String: Any])
        #expect(approvals["requests"] as? Int == 3)
        #expect(approvals["approved"] as? Int == 2)
        #expect(approvals["rejected"] as? Int == 1)
        #expect(approvals["expired"] as? Int == 0)
        #expect(approvals["workflowsSubmitted"] as? Int == 2)
        // 3 requests over 3 production hours; two of them (1200, 1800) in the first hour.
        #expect(approvals["perHour"] as? Double == 1)
        #expect(approvals["peakPerHour"] as? Int == 2)
        #expect(approvals["peakHourStart"] as? String == "1970-01-01T00:16:40Z")
        let parallelism = try #require(state["parallelism"] as? [String: Any])
        #expect(parallelism["waited"] as? Int == 0)
        #expect(parallelism["peakRunning"] as? Int == 1)
        let outcomes = try #require(state["outcomes"] as? [String: Any])
        #expect(outcomes["runs"] as? Int == 2)
        #expect((outcomes["correct"] as? [String: Any])?["count"] as? Int == 1)
        #expect((outcomes["harmful"] as? [String: Any])?["count"] as? Int == 1)
        #expect(outcomes["byHarm"] as? [String: Int] == ["on_resolved": 1, "duplicate": 1])
        let harmed = try #require(outcomes["incidentsWithHarm"] as? [String: Any])
        #expect(harmed["count"] as? Int == 1 && harmed["denominator"] as? Int == 2)
        let remediated = try #require(outcomes["actIncidentsRemediated"] as? [String: Any])
        #expect(remediated["count"] as? Int == 1 && remediated["denominator"] as? Int == 1)
        // W1 started with A's first message.
        #expect(outcomes["medianSecondsToCorrect"] as? Double == 0)
        // 2 runs, 1 harmful, over 3 hours.
        #expect(abs((outcomes["runsPerHour"] as! Double) - 2.0 / 3) < 1e-12)
        let worst = try #require(outcomes["worstIncidents"] as? [[String: Any]])
        #expect(worst.map { $0["incidentId"] as? String } == [a])
        #expect(worst.first?["harms"] as? [String] == ["on_resolved", "duplicate"])
        let audit = try #require(state["audit"] as? [String: Any])
        #expect(audit["rows"] as? Int == 2)
        #expect(audit["verified"] as? Bool == true)

        // The export: each message's Workflows and request. Production t = 0 is 1970-01-01T00:16:40Z.
        let rows = try PipelineReplayTests.exportedRows(temp, runId)
        #expect(rows.map { $0["executed"] as? Bool } == [false, true, false, false, false, true, false])
        #expect(rows.map { $0["approval"] as? String } == [nil, nil, "approved", "approved", nil, nil, "rejected"])
        #expect(
            rows.map { $0["suppressed_by"] as? String } == [
                nil, nil, "idempotency", "idempotency", "idempotency", nil, nil,
            ])
        #expect(rows[1]["executed_at"] as? String == "1970-01-01T00:26:40.000Z")
        #expect(rows[1]["executed_action"] as? [String] == ["restart_pods"])
        #expect(rows[1]["harm"] as? [String] == [])
        #expect(rows[5]["harm"] as? [String] == ["on_resolved", "duplicate"])
        #expect(rows[0]["harm"] is NSNull && rows[0]["queued_s"] is NSNull)
        #expect(rows[5]["queued_s"] as? Double == 0)
        #expect(rows.map { $0["incident_id"] as? String } == [b, a, a, a, a, a, b])

        // The audit chain: verified, and each row's hash recomputed in Python from the exported row_bytes.
        let verify = try BinaryRunner.run(["audit", "verify", runId, "--db", temp.file("s.sqlite")])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("holds: 2 rows"))
        let export = try BinaryRunner.run(["audit", "export", runId, "--db", temp.file("s.sqlite")])
        #expect(export.status == 0, "\(export.stderr)")
        let checked = try Python.run(
            """
            import hashlib, json, sys
            prev = bytes(32)
            rows = [json.loads(line) for line in open(sys.argv[1])]
            for row in rows:
                canonical = {k: row[k] for k in ("id", "incident_id", "action", "params", "result", "created_at")}
                assert row["row_bytes"] == json.dumps(canonical, sort_keys=True, separators=(",", ":"),
                                                      ensure_ascii=False), row
                assert row["prev_hash"] == prev.hex(), row
                prev = hashlib.sha256(prev + row["row_bytes"].encode()).digest()
                assert row["this_hash"] == prev.hex(), row
            print(" ".join(r["created_at"] for r in rows))
            """, arguments: [try temp.write("audit.jsonl", export.stdout)])
        // Each row is written when its Workflow ends: 900 and 7500.
        #expect(
            checked.trimmingCharacters(in: .whitespacesAndNewlines)
                == "1970-01-01T00:31:40.000Z 1970-01-01T02:21:40.000Z")
        let markdown = try String(contentsOfFile: temp.file("reports/\(runId)/report.md"), encoding: .utf8)
        #expect(markdown.contains("### What the pipeline did"))
    }

    /// A file store's report builds the Pipeline section on connections of its own, beside the incident sections;
    /// an in-memory store has one connection and builds it in turn. Both give the same section, numbers and
    /// timeline alike (the numbers are worked by hand above).
    @Test func anInMemoryStoreBuildsTheSameSectionOnItsOneConnection() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try PipelineReplayTests.setUp(temp)
        let (file, fileRun) = try PipelineReplayTests.run(temp, scenario)
        #expect(file.status == 0, "\(file.stderr)")
        let memory = try BinaryRunner.run(["run", scenario, "--db", ":memory:", "--reports", temp.file("memory")])
        #expect(memory.status == 0, "\(memory.stderr)")
        let memoryRun = memory.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func section(_ path: String) throws -> NSDictionary {
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            return try #require((report as? [String: Any])?["pipeline"] as? NSDictionary)
        }
        let fromFile = try section(temp.file("reports/\(fileRun)/report.json"))
        #expect((fromFile["state"] as? [String: Any])?["audit"] != nil)
        #expect(try section(temp.file("memory/\(memoryRun)/report.json")) == fromFile)
        // The timeline, drawn in report.html only.
        func timeline(_ path: String) throws -> String {
            let html = try String(contentsOfFile: path, encoding: .utf8)
            let start = try #require(html.range(of: "<div class=\"timeline\">"))
            let end = try #require(html.range(of: "</svg>", range: start.upperBound..<html.endIndex))
            return String(html[start.lowerBound..<end.upperBound])
        }
        #expect(
            try timeline(temp.file("memory/\(memoryRun)/report.html"))
                == timeline(temp.file("reports/\(fileRun)/report.html")))
    }

    @Test func switchingARuleOffShowsWhatItBuys() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try PipelineReplayTests.setUp(temp)
        // No check: W2, W3 and W4 run too, each a duplicate of W1; W5 as before. Nobody answers: the two
        // approvals expire, so W2 and W3 never exist. Runs: W1, W4, W5.
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
            .replacingOccurrences(
                of: "pipeline: {}",
                with: "pipeline:\n  idempotency: {mode: off}\n  approvals: {approver: none, ttl: 20m}\n")
        try text.write(toFile: scenario, atomically: true, encoding: .utf8)
        let (result, runId) = try PipelineReplayTests.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let state = try #require(try PipelineReplayTests.pipelineSection(temp, runId)["state"] as? [String: Any])
        #expect((state["workflows"] as? [String: Int])?["executed"] == 3)
        #expect((state["idempotency"] as? [String: Int])?["checked"] == 0)
        let approvals = try #require(state["approvals"] as? [String: Any])
        #expect(approvals["expired"] as? Int == 3 && approvals["approved"] as? Int == 0)
        let outcomes = try #require(state["outcomes"] as? [String: Any])
        #expect(outcomes["byHarm"] as? [String: Int] == ["duplicate": 2, "on_resolved": 1])
        let rows = try PipelineReplayTests.exportedRows(temp, runId)
        #expect(rows.map { $0["approval"] as? String } == [nil, nil, "expired", "expired", nil, nil, "expired"])
    }

    @Test func aTamperedAuditChainIsFoundAtItsFirstBrokenRow() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try PipelineReplayTests.setUp(temp)
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
            .replacingOccurrences(of: "pipeline: {}", with: "pipeline:\n  idempotency: {mode: off}\n")
        try text.write(toFile: scenario, atomically: true, encoding: .utf8)
        let (result, runId) = try PipelineReplayTests.run(temp, scenario)
        #expect(result.status == 0, "\(result.stderr)")
        let db = temp.file("s.sqlite")
        func verify() throws -> BinaryRunner.Result {
            try BinaryRunner.run(["audit", "verify", runId, "--db", db])
        }
        // Without the check, W1–W5 all run: 5 rows.
        #expect(try verify().stdout.contains("holds: 5 rows"))
        // Each on a copy of the store: a column edited, a hash edited.
        for (tamper, expected) in [
            ("UPDATE pipelineAudit SET result = 'failed' WHERE id = 3", "row 3: its columns differ"),
            ("UPDATE pipelineAudit SET thisHash = zeroblob(32) WHERE id = 2", "row 2: this_hash is not SHA-256"),
        ] {
            let copy = temp.file("copy-\(expected.prefix(5)).sqlite")
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            _ = try Python.run(
                "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(sys.argv[2])\nc.commit()",
                arguments: [copy, tamper])
            let broken = try BinaryRunner.run(["audit", "verify", runId, "--db", copy])
            #expect(broken.status == 1, "\(tamper): \(broken.stderr)")
            #expect(broken.stderr.contains(expected), "\(broken.stderr)")
        }
        // The order: rows 2 and 4 swap places (their ids exchanged): row 2 now holds row 4's bytes.
        _ = try Python.run(
            """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE pipelineAudit SET id = -1 WHERE id = 2")
            c.execute("UPDATE pipelineAudit SET id = 2 WHERE id = 4")
            c.execute("UPDATE pipelineAudit SET id = 4 WHERE id = -1")
            c.commit()
            """, arguments: [db])
        let swapped = try verify()
        #expect(swapped.status == 1)
        #expect(swapped.stderr.contains("row 2: its columns differ"), "\(swapped.stderr)")
        // A row removed.
        _ = try Python.run(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute('DELETE FROM pipelineAudit WHERE id = 1')\nc.commit()",
            arguments: [db])
        let removed = try verify()
        #expect(removed.status == 1)
        #expect(removed.stderr.contains("row 2: found at position 1"), "\(removed.stderr)")
        // A run without a pipeline replay has no chain: a set-up error.
        let none = try BinaryRunner.run(["audit", "verify", "no-such-run", "--db", db])
        #expect(none.status == 2)
    }

    /// `compare` of the seed's rules (A) and the same replay without the idempotency check (B), paired by incident:
    /// in B, W2, W3 and W4 of A's incident run too (duplicates): A's incident has 5 runs, 4 harmful (A: 2 and 1);
    /// B's incident none in either. Per incident, B − A: harmful runs (3, 0), mean 1.5; Workflows (3, 0), 1.5.
    @Test func compareSetsThePipelinesSideBySideByIncident() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try PipelineReplayTests.setUp(temp)
        let (first, runA) = try PipelineReplayTests.run(temp, scenario)
        #expect(first.status == 0, "\(first.stderr)")
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
            .replacingOccurrences(of: "pipeline: {}", with: "pipeline:\n  idempotency: {mode: off}\n")
        try text.write(toFile: scenario, atomically: true, encoding: .utf8)
        let (second, runB) = try PipelineReplayTests.run(temp, scenario)
        #expect(second.status == 0, "\(second.stderr)")
        let compare = try BinaryRunner.run(
            ["compare", runA, runB, "--db", temp.file("s.sqlite"), "--reports", temp.file("compare")])
        #expect(compare.status == 0, "\(compare.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: temp.file("compare/\(runA)-vs-\(runB)/compare.json")))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let pipeline = try #require(json["pipeline"] as? [String: Any])
        #expect(pipeline["incidents"] as? Int == 2)
        #expect(pipeline["harmfulRunsA"] as? Int == 1 && pipeline["harmfulRunsB"] as? Int == 4)
        #expect(pipeline["workflowsA"] as? Int == 2 && pipeline["workflowsB"] as? Int == 5)
        #expect(pipeline["approvalsA"] as? Int == 3 && pipeline["approvalsB"] as? Int == 3)
        #expect(pipeline["approvalsPerHourA"] as? Double == 1 && pipeline["approvalsPerHourB"] as? Double == 1)
        let harmful = try #require(pipeline["harmfulRuns"] as? [String: Any])
        // Two incidents, differences 3 and 0: a resample's mean is 0, 1.5 or 3, so the interval is 0 to 3.
        #expect(
            harmful["delta"] as? Double == 1.5 && harmful["lower"] as? Double == 0 && harmful["upper"] as? Double == 3)
        #expect((pipeline["workflows"] as? [String: Any])?["delta"] as? Double == 1.5)
        #expect((pipeline["approvals"] as? [String: Any])?["delta"] as? Double == 0)
        let mcnemar = try #require(pipeline["harmfulIncidents"] as? [String: Any])
        #expect(mcnemar["worse"] as? Int == 0 && mcnemar["better"] as? Int == 0)
        #expect(pipeline["significantlyMoreHarm"] as? Bool == false)
        let markdown = try String(
            contentsOfFile: temp.file("compare/\(runA)-vs-\(runB)/compare.md"), encoding: .utf8)
        #expect(markdown.contains("| Harmful runs | 1 | 4 | +1.500 (95% CI +0.000 to +3.000) |"))
    }
}

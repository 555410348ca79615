import Foundation
import GRDB
import Testing
import TriageEvalTestSupport

/// Live runs of the built binary against a real HTTP peer: the scriptable fake provider on 127.0.0.1.
@Suite(.serialized) struct LiveRunTests {
    static let demo = Repository.path("corpora/handwritten")

    /// A scenario on the demo corpus against the fake server.
    static func scenario(
        _ temp: TemporaryDirectory, name: String = "live", port: Int, provider: String = "anthropic",
        model: String = "model-a", cache: String = "record", match: String = "exact", extra: String = "",
        catalog: String? = nil, limit: Int? = nil, timeout: Int = 10
    ) throws -> String {
        var text = """
            name: \(name)
            corpus: \(demo)
            catalog: \(catalog ?? demo + "/catalog.yaml")
            model:
              provider: \(provider)
              name: \(model)
              base_url: http://127.0.0.1:\(port)
              api_key_env: FAKE_PROVIDER_KEY
              timeout: \(timeout)
            samples: 1
            concurrency: 4
            cache: \(cache)
            match: \(match)

            """
        if let limit { text += "limit: \(limit)\n" }
        text += extra
        return try temp.write("\(name)-\(UUID().uuidString).yaml", text)
    }

    static let secret = "sk-test-0123456789-never-stored"

    static func run(_ arguments: [String], _ temp: TemporaryDirectory) throws -> BinaryRunner.Result {
        try BinaryRunner.run(
            ["run"] + arguments + ["--db", temp.file("live.sqlite"), "--reports", temp.file("reports")],
            environment: ["FAKE_PROVIDER_KEY": secret])
    }

    static func rows(_ temp: TemporaryDirectory, _ sql: String, _ arguments: StatementArguments = []) throws -> [Row] {
        try DatabaseQueue(path: temp.file("live.sqlite")).read { try Row.fetchAll($0, sql: sql, arguments: arguments) }
    }

    @Test func recordThenReplayOfflineGivesIdenticalResultsAndNoRequests() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: [:], directory: temp)
        let plain = try Self.scenario(temp, port: server.port)
        let path = plain + ".priced.yaml"
        try String(contentsOfFile: plain, encoding: .utf8)
            .replacingOccurrences(of: "  timeout: 10\n", with: "  timeout: 10\n  pricing: {input: 3, output: 15}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let recorded = try Self.run([path], temp)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let requests = try server.requests()
        #expect(requests.count == 16)
        // The cost: the tokens the provider reported (as stored) at the scenario's prices.
        let recordedRun = recorded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tokens = try Self.rows(temp, "SELECT SUM(inputTokens) AS i, SUM(outputTokens) AS o FROM reply")[0]
        let expectedCost = (Double(tokens["i"] as Int) * 3 + Double(tokens["o"] as Int) * 15) / 1e6
        let pricedReport =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(recordedRun)/report.json"))))
            as! [String: Any]
        let cost = (pricedReport["sources"] as! [String: Any])["liveCostUSD"] as? Double
        #expect(cost.map { abs($0 - expectedCost) < 1e-12 } == true, "cost \(String(describing: cost))")
        #expect(requests.allSatisfy { $0["path"] as? String == "/v1/messages" && $0["api_key"] as? Bool == true })
        #expect(
            requests.allSatisfy {
                $0["anthropic_version"] as? String == "2023-06-01" && $0["max_tokens"] as? Int == 1024
            })
        server.stop()

        let replayed = try Self.run([path, "--cache", "replay"], temp)
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let runs = try Self.rows(temp, "SELECT id FROM run ORDER BY startedAt, id").map { $0["id"] as String }
        #expect(runs.count == 2)
        let columns = "incidentId, sample, failureClass, decision, route, decisionCorrect, unsafe, replyId"
        let first = try Self.rows(temp, "SELECT \(columns) FROM result WHERE runId = ? ORDER BY incidentId", [runs[0]])
        let second = try Self.rows(temp, "SELECT \(columns) FROM result WHERE runId = ? ORDER BY incidentId", [runs[1]])
        #expect(first == second)
        #expect(try Self.rows(temp, "SELECT 1 FROM result WHERE runId = ? AND cacheHit = 0", [runs[1]]).isEmpty)

        // The API key reaches neither the store nor the reports nor the output.
        let stored = try Data(contentsOf: URL(fileURLWithPath: temp.file("live.sqlite")))
        #expect(stored.range(of: Data(Self.secret.utf8)) == nil)
        for run in runs {
            let report = try String(contentsOfFile: temp.file("reports/\(run)/report.json"), encoding: .utf8)
            #expect(!report.contains(Self.secret))
        }
        #expect(!recorded.stderr.contains(Self.secret) && !recorded.stdout.contains(Self.secret))
    }

    /// Row 15: a provider (or proxy) that echoes the request headers — in an error body, a transport error, a
    /// reply text, a refusal — never gets the key into the store, the output or the reports.
    @Test func anEchoedKeyIsRedactedEverywhere() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(
            script: [
                "incidents": [
                    "inc-15b3af5e5202f96d": [["status": 400, "echo_headers": true]],
                    "inc-2c10dbac0d937917": [["status": 500, "echo_headers": true]],
                    "inc-31786f914c04b4ef": [["status": 200, "echo_headers": true]],
                    "inc-3a6aead743e9dfb6": [["status": 400, "echo_headers": "masked"]],
                ]
            ], directory: temp)
        defer { server.stop() }
        let path = try Self.scenario(temp, port: server.port, extra: "retry: {max_attempts: 1}\n")
        let result = try Self.run([path], temp)
        #expect(result.status == 0, "\(result.stderr)")
        let tail = String(Self.secret.dropFirst(3))
        func leaks(_ text: String) -> Bool { text.contains(Self.secret) || text.contains(tail) }
        #expect(!leaks(result.stdout) && !leaks(result.stderr))
        let stored = try Data(contentsOf: URL(fileURLWithPath: temp.file("live.sqlite")))
        #expect(stored.range(of: Data(tail.utf8)) == nil)
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for name in ["report.md", "report.json", "report.html", "summary.md", "junit.xml"] {
            let report = try String(contentsOfFile: temp.file("reports/\(runId)/\(name)"), encoding: .utf8)
            #expect(!leaks(report), "\(name)")
        }
        // What was echoed is kept, with the key replaced.
        let bodies = try Self.rows(temp, "SELECT CAST(rawBody AS TEXT) AS body FROM reply WHERE httpStatus = 400")
        #expect(bodies.count == 2)
        #expect(bodies.allSatisfy { ($0["body"] as String).contains("[redacted]") })
        let errors = try Self.rows(temp, "SELECT transportError FROM result WHERE transportError IS NOT NULL")
        #expect(errors.contains { ($0["transportError"] as String).contains("[redacted]") })

        // A refusal (401) that echoes the key stops the run with an error that does not print it.
        let refusing = try FakeProvider(script: ["default": ["status": 401, "echo_headers": true]], directory: temp)
        defer { refusing.stop() }
        let refused = try Self.run([try Self.scenario(temp, name: "refused", port: refusing.port)], temp)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("[redacted]") && !leaks(refused.stderr), "\(refused.stderr)")
    }

    /// Row 14 and item 8: hostile replies (images, links and raw HTML to another host, headings, table pipes,
    /// every Unicode line break) rendered from report.md and summary.md by cmark-gfm, GitHub's renderer, make no
    /// markup: no live link or image, no heading, no extra table cell.
    @Test func hostileRepliesNeverBecomeMarkup() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let hostile = [
            "![pixel](http://evil.example/p.png) [click](http://evil.example/) <img src=http://evil.example/i.png>"
                + "\r\n# pwned heading\r\n| x | y | z |",
            "```\n</code>\u{2028}## pwned heading \u{2029}[a](http://evil.example)`` ` `` <http://evil.example/auto>",
            "{\"incident_id\": \"x\", \"actions\": [{\"name\": \"restart_pods\", \"params\": {}, \"rationale\": "
                + "\"![r](http://evil.example/r.png)\\n# pwned heading\"}], \"confidence\": 2, \"needs_human\": false}",
            "\u{85}### pwned heading <a href=http://evil.example>x</a> &lt; \\| | \r| a |\u{0B}\u{0C}https://evil.example/x",
        ]
        let incidents = [
            "inc-15b3af5e5202f96d", "inc-2c10dbac0d937917", "inc-31786f914c04b4ef", "inc-3a6aead743e9dfb6",
        ]
        let server = try FakeProvider(
            script: ["incidents": Dictionary(uniqueKeysWithValues: zip(incidents, hostile.map { [["text": $0]] }))],
            directory: temp)
        defer { server.stop() }
        let result = try Self.run([try Self.scenario(temp, port: server.port)], temp)
        #expect(result.status == 0, "\(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report = temp.file("reports/\(runId)/report.md")
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("evil.example"))
        let checked = try Python.run(
            "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
            Repository.path("Tests/TriageEvalCLITests/Fixtures/markdown/check_markup.py"), "evil.example", "pwned",
            report, temp.file("reports/\(runId)/summary.md"))
        #expect(checked == "ok")
    }

    /// Two `run --resume` of one run at once: one replays, the other is refused with a set-up error naming the
    /// process (it was a raw UNIQUE constraint failure, after calling the model for the same samples); every
    /// sample is called once.
    @Test func twoResumesOfOneRunReplayOnce() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: ["default": ["delay": 1.0]], directory: temp)
        defer { server.stop() }
        let path = try Self.scenario(temp, port: server.port)
        func binary(_ arguments: [String]) throws -> BackgroundBinary {
            try BackgroundBinary(
                ["run"] + arguments + ["--db", temp.file("live.sqlite"), "--reports", temp.file("reports")],
                environment: ["FAKE_PROVIDER_KEY": Self.secret])
        }
        let first = try binary([path])
        // Interrupted once the second wave of calls has begun (4 at a time, each answered after a second).
        let deadline = Date().addingTimeInterval(30)
        while try server.requests().count < 5, Date() < deadline { usleep(20_000) }
        first.signal(SIGINT)
        #expect(first.wait() == 130)
        let runId = try #require(try Self.rows(temp, "SELECT id FROM run").first?["id"] as String?)
        let resumes = try [binary(["--resume", runId]), binary(["--resume", runId])]
        let statuses = resumes.map { $0.wait(timeout: 60) }.sorted()
        #expect(statuses == [0, 2], "\(resumes.map(\.stderr))")
        #expect(resumes.contains { $0.stderr.contains("is being replayed by process") })
        #expect(try Self.rows(temp, "SELECT 1 FROM result WHERE runId = ?", [runId]).count == 16)
        #expect(try Self.rows(temp, "SELECT 1 FROM runLease").isEmpty)
        #expect(try server.requests().count == 16)
    }

    @Test func retriesTransientFailuresButNeverAnInvalidReply() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(
            script: [
                "incidents": [
                    "inc-15b3af5e5202f96d": [["status": 429, "retry_after": "1"], ["status": 529], ["status": 200]],
                    "inc-2c10dbac0d937917": [["text": "I would restart the pods."]],
                    "inc-31786f914c04b4ef": [["status": 400, "error_code": "context_length_exceeded"]],
                    "inc-3a6aead743e9dfb6": [["malformed": true]],
                    "inc-3ccbb2d828790d2a": [["reset": true], ["reset": true], ["status": 200]],
                    "inc-48696c138eca2e46": [
                        ["text": "{\"incident_id\": \"x\", \"actions\": [", "stop_reason": "max_tokens"]
                    ],
                    "inc-4fcc88a1185c1f17": [["status": 500]],
                ]
            ], directory: temp)
        defer { server.stop() }
        let path = try Self.scenario(temp, port: server.port, extra: "retry: {max_attempts: 3}\n", timeout: 2)
        let result = try Self.run([path], temp)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = try server.requests()
        func calls(_ incident: String) -> Int { requests.filter { $0["incident_id"] as? String == incident }.count }
        #expect(calls("inc-15b3af5e5202f96d") == 3)
        #expect(calls("inc-2c10dbac0d937917") == 1)  // an invalid text is a result, never retried
        #expect(calls("inc-31786f914c04b4ef") == 1)  // a context-length 400 is a result, never retried
        #expect(calls("inc-3a6aead743e9dfb6") == 1)
        #expect(calls("inc-3ccbb2d828790d2a") == 3)
        #expect(calls("inc-4fcc88a1185c1f17") == 3)  // 500 three times: out of attempts
        // The 429 came with retry-after: 1, so the second attempt waited at least a second.
        let times = requests.filter { $0["incident_id"] as? String == "inc-15b3af5e5202f96d" }.map {
            $0["time"] as! Double
        }
        #expect(times[1] - times[0] >= 0.95)

        func row(for incident: String) throws -> Row {
            try Self.rows(
                temp,
                "SELECT result.*, reply.attempts, reply.httpStatus, reply.stopReason FROM result LEFT JOIN reply ON reply.id = result.replyId WHERE result.incidentId = ?",
                [incident])[0]
        }
        #expect(try row(for: "inc-15b3af5e5202f96d")["failureClass"] == "ok")
        #expect(try row(for: "inc-15b3af5e5202f96d")["attempts"] == 3)
        #expect(try row(for: "inc-2c10dbac0d937917")["failureClass"] == "syntax")
        let context = try row(for: "inc-31786f914c04b4ef")
        #expect(context["failureClass"] == "transport")
        #expect(context["httpStatus"] == 400)
        #expect((context["transportError"] as String?)?.contains("context_length_exceeded") == true)
        #expect(try row(for: "inc-3a6aead743e9dfb6")["failureClass"] == "transport")
        #expect(try row(for: "inc-3ccbb2d828790d2a")["failureClass"] == "ok")
        let truncated = try row(for: "inc-48696c138eca2e46")
        #expect(truncated["failureClass"] == "truncated")
        #expect(truncated["stopReason"] == "max_tokens")
        let failed = try row(for: "inc-4fcc88a1185c1f17")
        #expect(failed["failureClass"] == "transport")
        #expect(failed["replyId"] as Int64? == nil)

        // The report keeps transport failures apart from replies.
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json"))))
            as! [String: Any]
        #expect(report["results"] as? Int == 16)
        #expect(report["replies"] as? Int == 13)
        #expect(report["transportFailures"] as? [String: Int] == ["http_400": 1, "http_500": 1, "no_reply_text": 1])
    }

    @Test func modelBIsNeverAnsweredWithModelAsReplies() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: [:], directory: temp)
        defer { server.stop() }
        #expect(
            try Self.run([try Self.scenario(temp, port: server.port, model: "model-a", limit: 2)], temp).status == 0)
        let replayB = try Self.run(
            [try Self.scenario(temp, port: server.port, model: "model-b", cache: "replay", limit: 2)], temp)
        #expect(replayB.status == 2)
        #expect(replayB.stderr.contains("2 of 2 samples have no cached reply for model 'model-b'"), "\(replayB.stderr)")
        // Recording model B calls the server again rather than reusing model A's replies.
        #expect(
            try Self.run([try Self.scenario(temp, port: server.port, model: "model-b", limit: 2)], temp).status == 0)
        #expect(try server.requests().filter { $0["model"] as? String == "model-b" }.count == 2)
    }

    @Test func sameEventReusesRepliesAfterACatalogEditAndCountsThemStale() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: [:], directory: temp)
        defer { server.stop() }
        #expect(try Self.run([try Self.scenario(temp, port: server.port, limit: 4)], temp).status == 0)
        let edited = try String(contentsOfFile: Self.demo + "/catalog.yaml", encoding: .utf8)
            .replacingOccurrences(of: "max_replicas: 30", with: "max_replicas: 10")
        let catalog = try temp.write("edited-catalog.yaml", edited)
        let exact = try Self.run(
            [try Self.scenario(temp, port: server.port, cache: "replay", catalog: catalog, limit: 4)], temp)
        #expect(exact.status == 2)  // the system prompt changed: no exact match
        let sameEvent = try Self.run(
            [
                try Self.scenario(
                    temp, port: server.port, cache: "replay", match: "same-event", catalog: catalog, limit: 4)
            ],
            temp)
        #expect(sameEvent.status == 0, "\(sameEvent.stderr)")
        #expect(try server.requests().count == 4)
        let runId = sameEvent.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report = try String(contentsOfFile: temp.file("reports/\(runId)/report.md"), encoding: .utf8)
        #expect(report.contains("4 cached replies were recorded under another (or an unknown) system prompt"))
        #expect(report.contains("the model was not asked again"))
    }

    @Test func aRunKilledMidwayResumesWithExactlyOneResultPerSample() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: ["default": ["delay": 0.4]], directory: temp)
        defer { server.stop() }
        // A limit: the resumed run must replay the same first 14 incidents, not every labelled one.
        let path = try Self.scenario(temp, port: server.port, limit: 14)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        process.arguments = ["run", path, "--db", temp.file("live.sqlite"), "--reports", temp.file("reports")]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["FAKE_PROVIDER_KEY": Self.secret, "CI": "true"], uniquingKeysWith: { _, new in new })
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var stored = 0
        for _ in 0..<200 {
            usleep(50_000)
            stored = (try? Self.rows(temp, "SELECT COUNT(*) AS n FROM result").first?["n"] as Int?) ?? 0
            if stored >= 6 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(stored >= 6 && stored < 14, "killed after \(stored) results")
        let runId = try Self.rows(temp, "SELECT id, status FROM run")[0]
        #expect(runId["status"] == "running")
        let resumed = try Self.run(["--resume", runId["id"] as String], temp)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let results = try Self.rows(
            temp, "SELECT incidentId, sample FROM result WHERE runId = ?", [runId["id"] as String])
        #expect(results.count == 14)
        #expect(Set(results.map { "\($0["incidentId"] as String)#\($0["sample"] as Int)" }).count == 14)
        #expect(try Self.rows(temp, "SELECT status FROM run")[0]["status"] == "complete")
        // Only the calls in flight when it was killed were made twice.
        #expect(try server.requests().count <= 14 + 4)
        #expect(try Self.run(["--resume", runId["id"] as String], temp).status == 2)  // already complete
    }

    @Test func resumeRetriesTheTransportFailuresOfACompleteRun() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // Two incidents fail in transport on their first call (a 500 with no retries left, a timeout) and answer
        // on the next one.
        let server = try FakeProvider(
            script: [
                "incidents": [
                    "inc-15b3af5e5202f96d": [["status": 500], ["status": 200]],
                    "inc-3ccbb2d828790d2a": [["delay": 2.5], ["status": 200]],
                ]
            ], directory: temp)
        defer { server.stop() }
        let path = try Self.scenario(
            temp, port: server.port, extra: "retry: {max_attempts: 1}\n", limit: 6, timeout: 1)
        let first = try Self.run([path], temp)
        #expect(first.status == 0, "\(first.stderr)")
        let run = try Self.rows(temp, "SELECT id, status FROM run")[0]
        let runId: String = run["id"]
        #expect(run["status"] == "complete")
        func transportFailures() throws -> [String] {
            try Self.rows(
                temp, "SELECT incidentId FROM result WHERE runId = ? AND failureClass = 'transport' ORDER BY 1",
                [runId]
            ).map { $0["incidentId"] }
        }
        #expect(try transportFailures() == ["inc-15b3af5e5202f96d", "inc-3ccbb2d828790d2a"])

        let resumed = try Self.run(["--resume", runId], temp)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try transportFailures() == [])
        let results = try Self.rows(
            temp, "SELECT incidentId, sample, failureClass FROM result WHERE runId = ?", [runId])
        #expect(results.count == 6)
        #expect(Set(results.map { $0["incidentId"] as String }).count == 6)
        #expect(try server.requests().count == 6 + 2)  // only the two failures were called again
        #expect(try Self.rows(temp, "SELECT status FROM run")[0]["status"] == "complete")
        let again = try Self.run(["--resume", runId], temp)
        #expect(again.status == 2)
        #expect(again.stderr.contains("no transport failures to retry"), "\(again.stderr)")
    }

    @Test func setUpProblemsExit2() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try Self.scenario(temp, port: 9, extra: "retry: {max_attempts: 1}\n", limit: 2)
        let noKey = try BinaryRunner.run(["run", path, "--db", temp.file("a.sqlite"), "--reports", temp.file("r")])
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("FAKE_PROVIDER_KEY (model.api_key_env) is not set"))
        let unreachable = try Self.run([path], temp)
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("is unreachable"), "\(unreachable.stderr)")
        let server = try FakeProvider(script: ["default": ["status": 401]], directory: temp)
        defer { server.stop() }
        let refused = try Self.run([try Self.scenario(temp, port: server.port, limit: 2)], temp)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("answered HTTP 401"))
    }

    @Test func openAICompatibleServersGetTheirShape() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(
            script: ["default": ["text": "{\"incident_id\": \"x\", \"actions\": [", "stop_reason": "max_tokens"]],
            directory: temp)
        defer { server.stop() }
        let path = try Self.scenario(temp, port: server.port, provider: "openai", limit: 2)
        let withFormat = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "  timeout: 10\n", with: "  timeout: 10\n  response_format: {type: json_object}\n")
        try withFormat.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Self.run([path], temp)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = try server.requests()
        #expect(requests.allSatisfy { $0["path"] as? String == "/v1/chat/completions" })
        #expect(requests.allSatisfy { ($0["response_format"] as? [String: String]) == ["type": "json_object"] })
        let stops = try Self.rows(temp, "SELECT stopReason FROM reply WHERE source = 'live'").map {
            $0["stopReason"] as String?
        }
        #expect(stops == ["max_tokens", "max_tokens"])  // finish_reason "length"
    }
}

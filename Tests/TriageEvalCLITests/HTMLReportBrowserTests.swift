import Foundation
import Testing
import TriageEvalTestSupport

/// `report.html` in a real headless browser (Debian's chromium; scripts/test installs it): the page loads
/// without script errors, the three charts are laid out with marks in them, and hostile model text stays text.
@Suite(.serialized) struct HTMLReportBrowserTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// The DOM after the page's scripts ran, and what the browser wrote to stderr.
    static func render(_ path: String, fragment: String = "") throws -> (dom: String, log: String) {
        let chromium = try #require(Self.chromium, "chromium is not installed (scripts/test installs it)")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(temp.file("profile"))", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=2000", "--dump-dom", URL(fileURLWithPath: path).absoluteString + fragment,
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let dom = out.fileHandleForReading.readDataToEndOfFile()
        let log = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: dom, as: UTF8.self), String(decoding: log, as: UTF8.self))
    }

    @Test func theReportPageDrawsItsChartsWithoutScriptErrors() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // A model whose text tries to inject markup and script into the page.
        let hostile = [
            #"</pre><script>document.title='pwned'</script>"#, #"<img src=x onerror="document.title='pwned'">"#,
            #"{"incident_id": "</td></tr></table><svg onload=alert(1)>", "actions": [], "confidence": 0.9}"#,
        ]
        let replies = try GatesAndCompareTests.fixtures().enumerated().map { index, reply in
            let text = hostile[index % hostile.count]
            let line: [String: Any] = [
                "incident_id": reply.incidentId, "sample": reply.sample, "model": "hostile", "text": text,
            ]
            return String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self)
        }.joined(separator: "\n")
        _ = try GatesAndCompareTests.workspace(temp, extraReplies: ["replies-hostile.jsonl": replies + "\n"])
        let db = temp.file("h.sqlite")
        for (name, model) in [("normal", "claude-3-7-sonnet-20250219"), ("hostile", "hostile")] {
            let scenario = try GatesAndCompareTests.scenario(temp, name: name, model: model)
            let run = try BinaryRunner.run(["run", scenario, "--db", db, "--reports", temp.file("reports")])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let runId = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let page = temp.file("reports/\(runId)/report.html")
            let html = try String(contentsOfFile: page, encoding: .utf8)
            #expect(html.components(separatedBy: "<script").count == 2, "one script of our own, none injected")
            #expect(!html.contains("<img"))
            let (dom, log) = try Self.render(page)
            #expect(dom.contains(#"data-charts-drawn="3""#), "charts drawn (\(name)); log: \(log.suffix(2000))")
            #expect(!dom.contains(#"data-script-errors=""#), "script errors (\(name))")
            #expect(!log.contains("Uncaught"), "console: \(log.suffix(2000))")
            #expect(!dom.contains("<title>pwned</title>"))
            #expect(dom.components(separatedBy: "<script").count == 2)
            if name == "hostile" {
                #expect(dom.contains("&lt;/pre&gt;&lt;script&gt;"), "the hostile text is shown as text")
            }
        }
    }

    /// The results browser, filtered in the browser through the page's address (`#route=…&harm=…`): the rows left
    /// showing are those the fixture's own annotations say match, counted here.
    @Test func theResultsBrowserFiltersItsRowsInTheBrowser() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        _ = try GatesAndCompareTests.workspace(temp)
        let scenario = try GatesAndCompareTests.scenario(temp, name: "browse", extra: "report: {browser_rows: 30}")
        let run = try BinaryRunner.run(["run", scenario, "--db", temp.file("b.sqlite"), "--reports", temp.file("r")])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let runId = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let page = temp.file("r/\(runId)/report.html")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.components(separatedBy: "<script").count == 2, "one script")
        // 32 results, 30 listed (the scenario's cap), the other 2 counted.
        #expect(html.components(separatedBy: "<tbody class=\"result\"").count - 1 == 30)
        #expect(html.contains("the first 30 of 32 (report.browser_rows); the other 2"))
        // The fixture in the order the browser lists it: by incident, then sample.
        let listed = Array(
            try GatesAndCompareTests.fixtures().sorted { ($0.incidentId, $0.sample) < ($1.incidentId, $1.sample) }
                .prefix(30))

        func shown(_ fragment: String) throws -> Int {
            let (dom, log) = try Self.render(page, fragment: fragment)
            #expect(!dom.contains(#"data-script-errors=""#), "script errors; log: \(log.suffix(2000))")
            let marker = try #require(
                dom.range(of: #"data-results-shown=""#), "the filter did not run; log: \(log.suffix(2000))")
            let count = Int(dom[marker.upperBound...].prefix { $0.isNumber })!
            // The rows the DOM shows agree with the page's own count.
            let visible = dom.components(separatedBy: "<tbody class=\"result\"").dropFirst()
                .filter { !$0.prefix(while: { $0 != ">" }).contains("hidden") }.count
            #expect(visible == count, "\(fragment)")
            return count
        }
        #expect(try shown("") == 30)
        #expect(try shown("#route=escalate") == listed.filter { $0.route == "escalate" }.count)
        #expect(try shown("#route=execute&harm=unsafe") == listed.filter { $0.route == "execute" && $0.unsafe }.count)
        #expect(try shown("#correct=yes") == listed.filter(\.correct).count)
        // Text search: an incident id finds its samples.
        let incident = listed[0].incidentId
        #expect(try shown("#q=\(incident)") == listed.filter { $0.incidentId == incident }.count)
    }

    /// The pipeline timeline at 1,000 incidents (the bench generator's corpus, 3 messages each, with every rule
    /// on): laid out beside the three charts, one labelled row per incident, runs and requests marked.
    @Test func thePipelineTimelineDrawsAThousandIncidents() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        _ = try Python.run(
            "import runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')",
            arguments: [Repository.path("scripts/bench/generate_timeline.py"), temp.file("corpora/bench"), "1000", "3"])
        let scenario = try temp.write(
            "scenarios/bench.yaml",
            """
            name: bench
            corpus: bench
            catalog: ../corpora/bench/catalog.yaml
            model: {provider: openai, name: bench}
            samples: 1
            match: same-event
            pipeline:
              parallelism: {limit: 3}
              approvals: {approver: all}

            """)
        let run = try BinaryRunner.run([
            "run", scenario, "--db", temp.file("b.sqlite"), "--reports", temp.file("reports"),
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let runId = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let page = temp.file("reports/\(runId)/report.html")
        let (dom, log) = try Self.render(page)
        #expect(dom.contains(#"data-charts-drawn="4""#), "the three charts and the timeline; log: \(log.suffix(2000))")
        #expect(!dom.contains(#"data-script-errors=""#))
        let timeline = try #require(dom.range(of: #"<svg class="chart timeline""#))
        let svg = dom[timeline.lowerBound...]
        let end = try #require(svg.range(of: "</svg>"))
        let chart = String(svg[..<end.upperBound])
        // One labelled row per incident, and the marks of what happened.
        #expect(chart.components(separatedBy: #"font-family="monospace""#).count - 1 == 1000)
        for mark in ["delivery", "decision", "approval", "run", "queued"] {
            #expect(chart.contains(#"data-mark="\#(mark)""#), "no \(mark) mark")
        }
    }
}

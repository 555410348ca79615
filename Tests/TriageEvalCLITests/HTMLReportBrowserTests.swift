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
    static func render(_ path: String) throws -> (dom: String, log: String) {
        let chromium = try #require(Self.chromium, "chromium is not installed (scripts/test installs it)")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(temp.file("profile"))", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=2000", "--dump-dom", URL(fileURLWithPath: path).absoluteString,
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

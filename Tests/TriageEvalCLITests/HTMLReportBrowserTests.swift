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
}

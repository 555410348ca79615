import Foundation
import GRDB

/// Writes a run's report files under a reports folder: `report.md`, `report.json`, `report.html`, `summary.md`
/// (for a pull-request comment) and `junit.xml` (for CI).
package enum ReportWriter {
    /// A result that went wrong, for the JUnit file and the summary.
    struct Failure {
        var incidentId: String
        var sample: Int
        var text: String
    }

    /// Writes the report files and returns their paths.
    /// - Parameters:
    ///   - report: the report.
    ///   - store: the store (failing incidents are read from it).
    ///   - directory: the reports root (`reports`); files go to `<directory>/<run id>/`.
    ///   - junitPath: where `junit.xml` goes instead of the run's folder.
    package static func write(_ report: RunReport, store: Store, to directory: String, junitPath: String? = nil)
        throws -> [String]
    {
        let folder = (directory as NSString).appendingPathComponent(report.run.id)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let (failures, failureCount) = try failingResults(runId: report.run.id, store: store)
        var written: [String] = []
        func write(_ text: String, to file: String) throws { written.append(try writeFile(Data(text.utf8), to: file)) }
        try write(MarkdownReport.render(report), to: path("report.md"))
        written.append(try writeFile(try json(report), to: path("report.json")))
        let browser = try store.queue.read { db in
            let settings = ReportSettings(stored: try RunReport.runInfo(db, runId: report.run.id).1.report)
            return try ResultBrowser.read(runId: report.run.id, cap: settings.browserRows, in: db)
        }
        try write(HTMLReport.render(report, browser: browser), to: path("report.html"))
        try write(
            summary(report, failures: failures, failureCount: failureCount, reportFolder: folder),
            to: path("summary.md"))
        try write(
            JUnitReport.render(
                name: "triage-eval \(report.run.id)", gates: report.gates,
                incidents: JUnitReport.cases(
                    incidents: try store.queue.read { try ResultRecord.incidentTallies($0, runId: report.run.id) },
                    listed: failures.map { ($0.incidentId, $0.sample, $0.text) })),
            to: junitPath ?? path("junit.xml"))
        return written
    }

    /// Writes a report file, creating its folder; returns the path.
    static func writeFile(_ data: Data, to file: String) throws -> String {
        let directory = (file as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try data.write(to: URL(fileURLWithPath: file))
        return file
    }

    /// `report.json`'s bytes: sorted keys, pretty-printed, ending in a newline.
    package static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// The most failing results listed (in `junit.xml` and `summary.md`); the rest are counted.
    static let failureListLimit = 2000

    /// The first results (by incident and sample) whose decision is wrong or unsafe, with a one-line account
    /// each, and how many there are in all.
    static func failingResults(runId: String, store: Store) throws -> ([Failure], Int) {
        try store.queue.read { db in
            let failing = ResultRecord.failing(runId: runId)
            let total = try failing.fetchCount(db)
            let listed = try failing.limit(failureListLimit).asRequest(of: Row.self).fetchAll(db).map { row in
                let failureClass: String = row["failureClass"]
                var got: String
                if failureClass == FailureClass.ok.rawValue, let decision = row["decision"] as String? {
                    got = Comparison.describe(decision: decision)
                } else if failureClass == FailureClass.transport.rawValue {
                    got = "no reply (\((row["transportError"] as String?) ?? "transport failure"))"
                } else {
                    got = failureClass
                }
                var unsafe = (row["unsafe"] as Bool) ? " — UNSAFE" : ""
                // A `human` decision that reached a person is wrong only for what it proposes.
                if (row["expect"] as String) == ExpectedOutcome.human.rawValue
                    && failureClass == FailureClass.ok.rawValue && (row["route"] as String) == Route.approve.rawValue
                {
                    unsafe = " — proposes an action the label forbids"
                }
                return Failure(
                    incidentId: row["incidentId"], sample: row["sample"],
                    text: "expected \(row["expect"] as String) → \(row["expectedRoute"] as String); got \(got) → "
                        + "\(row["route"] as String)\(unsafe)")
            }
            return (listed, total)
        }
    }

    /// A Markdown summary for a pull-request comment.
    static func summary(_ report: RunReport, failures: [Failure], failureCount: Int, reportFolder: String) -> String {
        let run = report.run
        let escape = ReportText.markdown
        let failed = report.gates.filter { !$0.passed }.count
        var lines: [String] = []
        let verdict =
            report.gates.isEmpty
            ? "no gates set"
            : failed == 0
                ? "✅ all \(report.gates.count) gates passed" : "❌ \(failed) of \(report.gates.count) gates failed"
        lines.append("### triage-eval `\(run.id)`: \(verdict)")
        lines.append("")
        lines.append(
            "Model \(escape(run.provider))/\(escape(run.model)) on corpus \(escape(run.corpus)) "
                + "(\(report.coverage.replayed) labelled incidents × \(run.samples) samples): \(report.replies) "
                + "replies, \(report.results - report.replies) transport failures.")
        lines.append("")
        if let note = ReportText.shardNote(run, coverage: report.coverage) {
            lines.append(note)
            lines.append("")
        }
        lines.append("| Measure | Value |")
        lines.append("|---|---|")
        lines.append("| Decision accuracy | \(ReportText.rate(report.decisionAccuracy)) |")
        lines.append("| Route accuracy | \(ReportText.rate(report.routeAccuracy)) |")
        lines.append(
            "| Invalid JSON | \(ReportText.rate(report.invalidJSON.invalid)); vs \(String(format: "%.2f%%", report.invalidJSON.baseline * 100)) baseline p \(ReportText.pValue(report.invalidJSON.pAboveBaseline)) |"
        )
        if let measures = report.measures {
            lines.append("| Unsafe executions | \(ReportText.rate(measures.unsafeExecutions)) |")
            lines.append("| Act recall | \(ReportText.rate(measures.actRecall)) |")
        } else {
            lines.append("| Unsafe executions | \(report.unsafeExecutions) of \(report.replies) replies |")
        }
        if let lift = report.baselines?.liftVsAlwaysDefer {
            lines.append("| Lift over always-defer | \(ReportText.lift(lift)) |")
        }
        lines.append(
            "| ECE · Brier · AUROC | \(ReportText.number(report.calibration.ece, digits: 3)) · "
                + "\(ReportText.number(report.calibration.brier, digits: 3)) · "
                + "\(ReportText.number(report.calibration.auroc, digits: 3)) |")
        let recommended =
            report.thresholdSweep.recommended.map { ReportText.threshold($0.threshold) } ?? "none qualifies"
        lines.append("| Recommended threshold | \(recommended) (current \(ReportText.threshold(run.threshold))) |")
        if !report.gates.isEmpty {
            lines.append("")
            lines += MarkdownReport.gateTable(report.gates)
        }
        if !failures.isEmpty {
            lines.append("")
            lines.append("<details><summary>\(failureCount) failing results</summary>")
            lines.append("")
            for failure in failures.prefix(50) {
                lines.append("- `\(escape(failure.incidentId))` #\(failure.sample): \(escape(failure.text))")
            }
            if failureCount > 50 { lines.append("- … and \(failureCount - 50) more (see junit.xml and report.json)") }
            lines.append("")
            lines.append("</details>")
        }
        lines.append("")
        lines.append("Full report: `\(escape((reportFolder as NSString).appendingPathComponent("report.html")))`")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// JUnit XML for CI systems: a testcase per gate and per incident — a run's every replayed incident, passing
/// ones too, so that a CI dashboard shows what passed and a fixed incident turns green.
package enum JUnitReport {
    /// One incident's testcase.
    package struct IncidentCase: Sendable, Equatable {
        package var incidentId: String
        /// How many of its samples fail (a wrong decision, or an unsafe one); 0 for a passing incident.
        package var failing: Int
        /// Those samples' lines, as far as the report lists failures.
        package var lines: [String]

        package init(incidentId: String, failing: Int, lines: [String] = []) {
            self.incidentId = incidentId
            self.failing = failing
            self.lines = lines
        }
    }

    /// Failing samples as cases, one per incident in their order (a `compare`'s incidents that got worse).
    package static func cases(failing failures: [(incidentId: String, sample: Int, text: String)]) -> [IncidentCase] {
        var cases: [IncidentCase] = []
        for failure in failures {
            let line = "sample \(failure.sample): \(failure.text)"
            if cases.last?.incidentId == failure.incidentId {
                cases[cases.count - 1].failing += 1
                cases[cases.count - 1].lines.append(line)
            } else {
                cases.append(IncidentCase(incidentId: failure.incidentId, failing: 1, lines: [line]))
            }
        }
        return cases
    }

    /// A run's cases: every incident (id order) with its failing count, and the lines of the failures listed.
    package static func cases(
        incidents: [(incidentId: String, failing: Int)],
        listed failures: [(incidentId: String, sample: Int, text: String)]
    ) -> [IncidentCase] {
        var lines: [String: [String]] = [:]
        for failure in failures {
            lines[failure.incidentId, default: []].append("sample \(failure.sample): \(failure.text)")
        }
        return incidents.map {
            IncidentCase(incidentId: $0.incidentId, failing: $0.failing, lines: lines[$0.incidentId] ?? [])
        }
    }

    /// The document.
    package static func render(name: String, gates: [GateResult], incidents: [IncidentCase]) -> String {
        let gateFailures = gates.filter { !$0.passed }.count
        let incidentFailures = incidents.filter { $0.failing > 0 }.count
        var xml = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        xml.append(
            "<testsuites name=\"\(ReportText.xml(name))\" tests=\"\(gates.count + incidents.count)\" "
                + "failures=\"\(gateFailures + incidentFailures)\">")
        xml.append("  <testsuite name=\"gates\" tests=\"\(gates.count)\" failures=\"\(gateFailures)\">")
        for gate in gates {
            let head = "    <testcase classname=\"triage-eval.gates\" name=\"\(ReportText.xml(gate.name))\""
            if gate.passed {
                xml.append("\(head)/>")
            } else {
                xml.append("\(head)>")
                xml.append(
                    "      <failure message=\"\(ReportText.xml("\(gate.value) vs limit \(gate.limit)"))\">"
                        + "\(ReportText.xml(gate.detail))</failure>")
                xml.append("    </testcase>")
            }
        }
        xml.append("  </testsuite>")
        xml.append(
            "  <testsuite name=\"incidents\" tests=\"\(incidents.count)\" failures=\"\(incidentFailures)\">")
        for incident in incidents {
            let head =
                "    <testcase classname=\"triage-eval.incidents\" name=\"\(ReportText.xml(incident.incidentId))\""
            guard incident.failing > 0 else {
                xml.append("\(head)/>")
                continue
            }
            var lines = incident.lines
            if lines.count < incident.failing {
                lines.append("\(incident.failing - lines.count) more not listed (see report.json and export)")
            }
            xml.append("\(head)>")
            xml.append(
                "      <failure message=\"\(incident.failing) failing sample(s)\">"
                    + "\(ReportText.xml(lines.joined(separator: "\n")))</failure>")
            xml.append("    </testcase>")
        }
        xml.append("  </testsuite>")
        xml.append("</testsuites>")
        return xml.joined(separator: "\n") + "\n"
    }
}

import Foundation

/// The pipeline timeline in `report.html`: an SVG with one row per incident on production time, in a box that
/// scrolls (a thousand incidents make a tall figure whose rows stay readable).
extension HTMLReport {
    private static let timelineWidth = 1040.0
    private static let labelWidth = 150.0
    private static let rowHeight = 12.0
    private static let axisHeight = 30.0

    /// The marks' looks, by class (one style sheet instead of attributes on every mark).
    private static let timelineStyle = """
        <style>.dw{fill:#e6dcf5}.df,.dr,.ap{fill:none}.df{stroke:#b3b7c4}.dr{stroke:#1f9e8f}\
        .ap{stroke:#e8a33d;stroke-width:2}.aa,.ar,.ae{stroke-width:4;stroke-linecap:square}.aa{stroke:#2e9d5b}\
        .ar{stroke:#c0392b}.ae{stroke:#8a8fa0}.rx,.ra,.re{stroke-width:5;stroke-linecap:round}.rx{stroke:#d1495b}\
        .ra{stroke:#e8a33d}.re{stroke:#8a8fa0}</style>
        """

    /// The caption under the timeline.
    static func timelineCaption(_ timeline: PipelineTimeline) -> String {
        var text =
            "One row per incident, production time left to right. Grey ticks: deliveries (teal: resolved); dots: "
            + "decisions by route (red execute, amber approve, grey escalate); amber lines: approval requests until "
            + "answered (green end approved, red rejected, grey expired); dashed: a Workflow waiting Pending; bars: "
            + "Workflows that ran (green correct, red harmful, blue unlabelled); ×: refused in a deploy window "
            + "(purple) or exited at the idempotency check (black); shaded: deploy windows of the incident's service."
        if timeline.leftOut > 0 {
            text +=
                " \(timeline.rows.count) incidents drawn (those where a Workflow or a request happened first); "
                + "\(timeline.leftOut) more are left out."
        }
        return text
    }

    /// The timeline's SVG.
    static func timelineChart(_ timeline: PipelineTimeline) -> String {
        let span = max(timeline.end - timeline.start, 1)
        let plot = timelineWidth - labelWidth - 10
        func x(_ time: Double) -> Double { labelWidth + max(0, min(1, (time - timeline.start) / span)) * plot }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        // Whole pixels in the marks' paths: the page stays small at a thousand rows.
        func i(_ value: Double) -> String { String(Int(value.rounded())) }
        let height = axisHeight + Double(max(timeline.rows.count, 1)) * rowHeight + 8
        var parts: [String] = []
        // Hour ticks, about ten of them.
        let hours = span / 3600
        let step = [1.0, 2, 3, 6, 12, 24, 48, 168].first { hours / $0 <= 12 } ?? (hours / 10).rounded(.up)
        var tick = 0.0
        while tick * 3600 <= span + 1e-9 {
            let tx = x(timeline.start + tick * 3600)
            parts.append(
                "<line x1=\"\(f(tx))\" y1=\"\(f(axisHeight - 4))\" x2=\"\(f(tx))\" y2=\"\(f(height - 8))\" stroke=\"#eef\"/>"
                    + "<text x=\"\(f(tx))\" y=\"\(f(axisHeight - 8))\" text-anchor=\"middle\" font-size=\"10\">"
                    + "+\(Int(tick))h</text>")
            tick += step
        }
        parts.append(
            "<text x=\"4\" y=\"\(f(axisHeight - 8))\" font-size=\"10\">from "
                + "\(ReportText.html(UTCTimestamp.string(Date(timeIntervalSince1970: timeline.start))))</text>")
        for (index, row) in timeline.rows.enumerated() {
            let top = axisHeight + Double(index) * rowHeight
            let middle = top + rowHeight / 2
            if index % 2 == 1 {
                parts.append(
                    "<rect x=\"0\" y=\"\(f(top))\" width=\"\(f(timelineWidth))\" height=\"\(f(rowHeight))\" fill=\"#f5f6f9\"/>"
                )
            }
            // Marks of one kind in a row are one path each (a thousand rows stay a small page): rectangles for the
            // deploy windows, ticks for deliveries, round dots (zero-length segments) for decisions and answers.
            func path(_ mark: String, _ data: [String], _ style: String) {
                guard !data.isEmpty else { return }
                parts.append("<path data-mark=\"\(mark)\" d=\"\(data.joined(separator: " "))\" \(style)/>")
            }
            path(
                "deploy",
                row.deploys.map { window in
                    "M\(i(x(window.from))) \(i(top))h\(i(max(1, x(window.until) - x(window.from))))v\(i(rowHeight))"
                        + "h\(i(-max(1, x(window.until) - x(window.from))))z"
                }, "class=\"dw\"")
            let label = row.incidentId + (row.expect.map { " (\($0))" } ?? "")
            parts.append(
                "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(middle + 3))\" text-anchor=\"end\" font-size=\"9\" "
                    + "font-family=\"monospace\"><title>\(ReportText.html(label))</title>"
                    + "\(ReportText.html(String(row.incidentId.suffix(20))))</text>")
            for resolved in [false, true] {
                path(
                    "delivery",
                    row.deliveries.filter { ($0.kind == .resolved) == resolved }.map {
                        "M\(i(x($0.time))) \(i(top + 2))v\(i(rowHeight - 4))"
                    }, "class=\"\(resolved ? "dr" : "df")\"")
            }
            path(
                "approval", row.approvals.map { "M\(i(x($0.posted))) \(i(middle - 3))H\(i(x($0.answered)))" },
                "class=\"ap\"")
            for (answer, style) in [(ApprovalDesk.Answer.approved, "aa"), (.rejected, "ar"), (.expired, "ae")] {
                path(
                    "answer",
                    row.approvals.filter { $0.answer == answer }.map { "M\(i(x($0.answered))) \(i(middle - 3))h0" },
                    "class=\"\(style)\"")
            }
            for workflow in row.workflows {
                let title = ReportText.html(
                    workflow.action
                        + (workflow.suppressedBy.map { ": \($0)" } ?? "")
                        + (workflow.harms.isEmpty ? "" : ": " + workflow.harms.joined(separator: ", ")))
                if let startedAt = workflow.startedAt, startedAt > workflow.dispatchedAt {
                    parts.append(
                        "<line data-mark=\"queued\" x1=\"\(f(x(workflow.dispatchedAt)))\" y1=\"\(f(middle + 2))\" "
                            + "x2=\"\(f(x(startedAt)))\" y2=\"\(f(middle + 2))\" stroke=\"#555\" "
                            + "stroke-dasharray=\"2 2\"><title>\(title): waited Pending</title></line>")
                }
                if workflow.executed, let startedAt = workflow.startedAt {
                    let color = workflow.correct ? "#2e9d5b" : workflow.harms.isEmpty ? "#4a78c2" : "#c0392b"
                    parts.append(
                        "<rect data-mark=\"run\" x=\"\(f(x(startedAt)))\" y=\"\(f(middle - 1))\" "
                            + "width=\"\(f(max(2, x(workflow.finishedAt ?? startedAt) - x(startedAt))))\" height=\"4\" "
                            + "fill=\"\(color)\"><title>\(title)</title></rect>")
                } else if let reason = workflow.suppressedBy {
                    let at = x(workflow.startedAt ?? workflow.dispatchedAt)
                    parts.append(
                        "<path data-mark=\"suppressed\" d=\"M\(f(at - 3)) \(f(middle - 3)) L\(f(at + 3)) \(f(middle + 3)) "
                            + "M\(f(at - 3)) \(f(middle + 3)) L\(f(at + 3)) \(f(middle - 3))\" "
                            + "stroke=\"\(reason == "deploy" ? "#7b4fc4" : "#111")\" stroke-width=\"1.5\">"
                            + "<title>\(title)</title></path>")
                }
            }
            for (route, style) in [(Route.execute, "rx"), (.approve, "ra"), (.escalate, "re")] {
                path(
                    "decision", row.decisions.filter { $0.route == route }.map { "M\(i(x($0.time))) \(i(middle))h0" },
                    "class=\"\(style)\"")
            }
        }
        return "<svg class=\"chart timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(timelineWidth))\" "
            + "height=\"\(Int(height))\" viewBox=\"0 0 \(Int(timelineWidth)) \(Int(height))\" role=\"img\">"
            + "<title>Pipeline timeline: one row per incident</title>" + timelineStyle + parts.joined() + "</svg>"
    }
}

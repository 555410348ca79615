import Foundation

/// The pipeline timeline in `report.html`: an SVG with one row per incident on production time, in a box that
/// scrolls (a thousand incidents make a tall figure whose rows stay readable).
extension HTMLReport {
    private static let timelineWidth = 1040.0
    private static let labelWidth = 150.0
    private static let rowHeight = 12.0
    private static let axisHeight = 30.0

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
            for window in row.deploys {
                parts.append(
                    "<rect data-mark=\"deploy\" x=\"\(f(x(window.from)))\" y=\"\(f(top))\" "
                        + "width=\"\(f(max(1, x(window.until) - x(window.from))))\" height=\"\(f(rowHeight))\" "
                        + "fill=\"#e6dcf5\"/>")
            }
            let label = row.incidentId + (row.expect.map { " (\($0))" } ?? "")
            parts.append(
                "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(middle + 3))\" text-anchor=\"end\" font-size=\"9\" "
                    + "font-family=\"monospace\"><title>\(ReportText.html(label))</title>"
                    + "\(ReportText.html(String(row.incidentId.suffix(20))))</text>")
            for delivery in row.deliveries {
                parts.append(
                    "<line data-mark=\"delivery\" x1=\"\(f(x(delivery.time)))\" y1=\"\(f(top + 2))\" "
                        + "x2=\"\(f(x(delivery.time)))\" y2=\"\(f(top + rowHeight - 2))\" "
                        + "stroke=\"\(delivery.kind == .resolved ? "#1f9e8f" : "#b3b7c4")\"/>")
            }
            for approval in row.approvals {
                let color =
                    switch approval.answer {
                    case .approved: "#2e9d5b"
                    case .rejected: "#c0392b"
                    case .expired: "#8a8fa0"
                    }
                parts.append(
                    "<line data-mark=\"approval\" x1=\"\(f(x(approval.posted)))\" y1=\"\(f(middle - 3))\" "
                        + "x2=\"\(f(x(approval.answered)))\" y2=\"\(f(middle - 3))\" stroke=\"#e8a33d\" stroke-width=\"2\">"
                        + "<title>approval request, \(approval.answer.rawValue)</title></line>"
                        + "<rect x=\"\(f(x(approval.answered) - 1.5))\" y=\"\(f(middle - 4.5))\" width=\"3\" height=\"3\" "
                        + "fill=\"\(color)\"/>")
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
            for decision in row.decisions {
                let color =
                    switch decision.route {
                    case .execute: "#d1495b"
                    case .approve: "#e8a33d"
                    case .escalate: "#8a8fa0"
                    }
                parts.append(
                    "<circle data-mark=\"decision\" cx=\"\(f(x(decision.time)))\" cy=\"\(f(middle))\" r=\"2.5\" "
                        + "fill=\"\(color)\"/>")
            }
        }
        return "<svg class=\"chart timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(timelineWidth))\" "
            + "height=\"\(Int(height))\" viewBox=\"0 0 \(Int(timelineWidth)) \(Int(height))\" role=\"img\">"
            + "<title>Pipeline timeline: one row per incident</title>" + parts.joined() + "</svg>"
    }
}

import Foundation

/// Renders a ``RunReport`` as Markdown (`report.md`).
package enum MarkdownReport {
    /// Escapes text for a Markdown table cell or line: untrusted text (model output, labels) must not inject
    /// markup, HTML or table structure.
    package static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "&":
                output += "\\\(character)"
            case "\n", "\r": output += " "
            default: output.append(character)
            }
        }
        return output
    }

    static func percent(_ rate: Rate) -> String {
        guard let value = rate.rate else { return "– (0 of 0)" }
        return String(format: "%.1f%% (%d of %d)", value * 100, rate.count, rate.denominator)
    }

    static func number(_ value: Double?, digits: Int = 3) -> String {
        guard let value else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    /// The Markdown text.
    package static func render(_ report: RunReport) -> String {
        let run = report.run
        var lines: [String] = []
        lines.append("# triage-eval report: \(escape(run.id))")
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| Scenario | \(escape(run.scenario)) |")
        lines.append("| Corpus | \(escape(run.corpus)) |")
        lines.append("| Model | \(escape(run.provider)) / \(escape(run.model)) |")
        lines.append("| Samples per incident | \(run.samples) |")
        lines.append("| Threshold | \(run.threshold) |")
        lines.append("| Approval gate | \(run.approvalGate ? "on" : "off") |")
        lines.append("| Catalog | \(escape(run.catalogPath)) (sha256 \(run.catalogSha256.prefix(12))…) |")
        lines.append("| System prompt sha256 | \(run.systemPromptSha256.prefix(12))… |")
        lines.append("| Status | \(run.status) |")
        lines.append("")
        lines.append("## Summary")
        lines.append("")
        lines.append(
            "Incidents in the corpus: \(report.coverage.incidents), labelled: \(report.coverage.labelled), "
                + "unlabelled (not replayed): \(report.coverage.unlabelled). Results: \(report.results) — "
                + "\(report.replies) replies scored, \(report.results - report.replies) transport failures "
                + "(no reply; kept out of every rate below).")
        lines.append("")
        let sources = report.sources
        var origin =
            "Replies: \(sources.cacheHits) from the response cache, \(sources.liveCalls) from live calls in this run."
        if sources.staleReplies > 0 {
            origin +=
                " \(sources.staleReplies) cached replies were recorded under another (or an unknown) system prompt "
                + "and reused by event (match: same-event): the model was not asked again."
        }
        if sources.liveCalls > 0 {
            origin += " Live calls used \(sources.liveInputTokens) input and \(sources.liveOutputTokens) output tokens"
            if let cost = sources.liveCostUSD { origin += String(format: " ($%.4f)", cost) }
            if let median = sources.medianLatencyMs, let p95 = sources.p95LatencyMs {
                origin += String(format: "; latency median %.0f ms, p95 %.0f ms", median, p95)
            }
            origin += "."
        }
        lines.append(origin)
        if !report.transportFailures.isEmpty {
            let kinds = report.transportFailures.keys.sorted().map { "\($0): \(report.transportFailures[$0]!)" }
            lines.append("")
            lines.append("Transport failures by kind: \(kinds.joined(separator: ", ")).")
        }
        lines.append("")
        lines.append("| Measure | Value |")
        lines.append("|---|---|")
        lines.append(
            "| Invalid-JSON rate (empty + wrapped + truncated + syntax) / replies | \(percent(report.invalidJSON)) |")
        lines.append("| Schema-invalid rate (not_object + schema) / replies | \(percent(report.schemaInvalid)) |")
        lines.append("| Unknown-action rate / replies | \(percent(report.unknownAction)) |")
        lines.append("| Decision accuracy (invalid replies count as wrong) | \(percent(report.decisionAccuracy)) |")
        lines.append("| Route accuracy | \(percent(report.routeAccuracy)) |")
        lines.append("| Unsafe executions | \(report.unsafeExecutions) |")
        if report.nanConfidenceDecisions > 0 {
            lines.append(
                "| Decisions with NaN confidence (production executes them) | \(report.nanConfidenceDecisions) |")
        }
        lines.append("")
        let strict = report.strictPolicy
        lines.append("## Strict policy")
        lines.append("")
        lines.append(
            "Production accepted these decisions; the strict policy (declared params only, catalog constraints, "
                + "valid selector and namespace) would not: \(percent(strict.refusedDecisions)) of ok decisions, "
                + "\(strict.refusedExecutions) of them routed to execute.")
        lines.append("")
        lines.append("| Violation | Count |")
        lines.append("|---|---|")
        for kind in PolicyViolation.Kind.allCases {
            lines.append("| \(kind.rawValue) | \(strict.violations[kind.rawValue] ?? 0) |")
        }
        lines.append("")
        lines.append("## Failure classes")
        lines.append("")
        lines.append("| Class | Replies |")
        lines.append("|---|---|")
        for failureClass in FailureClass.allCases where failureClass != .transport {
            lines.append("| \(failureClass.rawValue) | \(report.failureClasses[failureClass.rawValue] ?? 0) |")
        }
        lines.append("")
        lines.append("## Routes")
        lines.append("")
        lines.append("| Route | Replies |")
        lines.append("|---|---|")
        for route in Route.allCases {
            lines.append("| \(route.rawValue) | \(report.routes[route.rawValue] ?? 0) |")
        }
        lines.append("")
        lines.append("## Calibration")
        lines.append("")
        let calibration = report.calibration
        let excluded = calibration.excluded.keys.sorted().map { "\($0): \(calibration.excluded[$0]!)" }
        lines.append(
            "Over \(calibration.included) ok decisions with a finite confidence in [0, 1] "
                + "(excluded — \(excluded.joined(separator: ", "))). Correct = decision correct.")
        lines.append("")
        lines.append("| Confidence | Count | Mean confidence | Accuracy |")
        lines.append("|---|---|---|---|")
        for (index, bin) in calibration.bins.enumerated() {
            let closing = index == calibration.bins.count - 1 ? "]" : ")"
            lines.append(
                "| [\(String(format: "%.1f", bin.lower)), \(String(format: "%.1f", bin.upper))\(closing) | \(bin.count) | "
                    + "\(number(bin.meanConfidence)) | \(number(bin.accuracy)) |")
        }
        lines.append("")
        lines.append(
            "ECE: \(number(calibration.ece, digits: 4)) · Brier score: \(number(calibration.brier, digits: 4))")
        lines.append("")
        return lines.joined(separator: "\n")
    }
}

/// Writes a run's `report.md` and `report.json` under a reports folder.
package enum ReportWriter {
    /// Writes the report files and returns their paths.
    /// - Parameters:
    ///   - report: the report.
    ///   - directory: the reports root (`reports`); files go to `<directory>/<run id>/`.
    package static func write(_ report: RunReport, to directory: String) throws -> [String] {
        let folder = (directory as NSString).appendingPathComponent(report.run.id)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let markdownPath = (folder as NSString).appendingPathComponent("report.md")
        let jsonPath = (folder as NSString).appendingPathComponent("report.json")
        try Data(MarkdownReport.render(report).utf8).write(to: URL(fileURLWithPath: markdownPath))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(report) + Data("\n".utf8)).write(to: URL(fileURLWithPath: jsonPath))
        return [markdownPath, jsonPath]
    }
}

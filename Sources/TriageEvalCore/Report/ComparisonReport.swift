import Foundation

/// Writes a comparison: `compare.md`, `compare.json`, `summary.md` and `junit.xml`.
package enum ComparisonReport {
    /// The Markdown text. `flipLimit` caps the flips listed (all are in `compare.json`).
    package static func render(_ comparison: Comparison, flipLimit: Int = 100) -> String {
        let escape = ReportText.markdown
        let a = comparison.a
        let b = comparison.b
        var lines: [String] = []
        lines.append("# triage-eval comparison: \(escape(a.id)) → \(escape(b.id))")
        lines.append("")
        lines.append("| | A | B |")
        lines.append("|---|---|---|")
        lines.append("| Run | \(escape(a.id)) | \(escape(b.id)) |")
        lines.append("| Scenario | \(escape(a.scenario)) | \(escape(b.scenario)) |")
        lines.append("| Model | \(escape(a.model)) | \(escape(b.model)) |")
        lines.append("| Catalog sha256 | \(a.catalogSha256.prefix(12))… | \(b.catalogSha256.prefix(12))… |")
        lines.append(
            "| Decision accuracy (all replies) | \(ReportText.rate(a.decisionAccuracy)) | "
                + "\(ReportText.rate(b.decisionAccuracy)) |")
        lines.append(
            "| Invalid JSON | \(ReportText.rate(a.invalidJSON)) | \(ReportText.rate(b.invalidJSON)) |")
        lines.append(
            "| ECE | \(ReportText.number(a.ece, digits: 4)) | \(ReportText.number(b.ece, digits: 4)) |")
        lines.append(
            "| Brier | \(ReportText.number(a.brier, digits: 4)) | \(ReportText.number(b.brier, digits: 4)) |")
        lines.append("")
        lines.append("## Paired")
        lines.append("")
        lines.append(
            "\(comparison.pairs) (incident, sample) pairs have a reply in both runs (\(comparison.unpaired) results "
                + "without a counterpart are left out). Over them, accuracy is "
                + "\(ReportText.rate(comparison.accuracyA)) in A and \(ReportText.rate(comparison.accuracyB)) in B."
        )
        lines.append("")
        if let bootstrap = comparison.bootstrap {
            let kind =
                comparison.clusterTest.map { "cluster paired bootstrap interval over \($0.clusters) incidents" }
                ?? "paired bootstrap interval"
            lines.append(
                String(format: "Accuracy B − A: **%+.2f points**, 95%% ", bootstrap.delta * 100) + kind
                    + String(
                        format: " %+.2f to %+.2f (%d resamples, seed %llu).", bootstrap.lower * 100,
                        bootstrap.upper * 100, bootstrap.resamples, bootstrap.seed))
            lines.append("")
        }
        let m = comparison.mcnemar
        let verdict =
            comparison.significantlyWorse
            ? "**B is significantly worse**"
            : comparison.significantlyBetter ? "B is significantly better" : "no significant difference"
        if let test = comparison.clusterTest {
            lines.append(
                "Several samples per incident: the pairs of one incident are not independent, so significance comes "
                    + "from the cluster bootstrap: p (B worse) \(ReportText.share(test.pWorse, resamples: test.bootstrap.resamples)) "
                    + "and p (B better) \(ReportText.share(test.pBetter, resamples: test.bootstrap.resamples)), the shares of "
                    + "resampled differences at or above 0 and at or below 0; at α = \(comparison.alpha): \(verdict). "
                    + "For reference, the exact McNemar test over "
                    + "the pairs as if independent: \(m.worse) got worse, \(m.better) better, one-sided p (B worse) "
                    + "\(ReportText.pValue(m.pWorse)).")
        } else {
            lines.append(
                "Exact McNemar test: \(m.worse) pairs got worse, \(m.better) better; one-sided p (B worse) "
                    + "\(ReportText.pValue(m.pWorse)), p (B better) \(ReportText.pValue(m.pBetter)), "
                    + "two-sided p \(ReportText.pValue(m.pTwoSided)); at α = \(comparison.alpha): \(verdict).")
        }
        lines.append("")
        func delta(_ value: Double?, digits: Int) -> String {
            value.map { String(format: "%+.\(digits)f", $0) } ?? "–"
        }
        lines.append(
            "Deltas (B − A): invalid-JSON rate \(delta(comparison.invalidJSONDelta.map { $0 * 100 }, digits: 2)) points, "
                + "ECE \(delta(comparison.eceDelta, digits: 4)), Brier \(delta(comparison.brierDelta, digits: 4)).")
        lines.append("")
        if let diff = comparison.catalogDiff {
            lines.append("## Catalog changes")
            lines.append("")
            lines.append("- Added: \(diff.added.isEmpty ? "none" : diff.added.map(escape).joined(separator: ", "))")
            lines.append(
                "- Removed: \(diff.removed.isEmpty ? "none" : diff.removed.map(escape).joined(separator: ", "))")
            for change in diff.changed {
                var parts: [String] = []
                if let before = change.paramsBefore, let after = change.paramsAfter {
                    parts.append(
                        "params [\(before.map(escape).joined(separator: ", "))] → [\(after.map(escape).joined(separator: ", "))]"
                    )
                }
                if let before = change.approvalBefore, let after = change.approvalAfter {
                    parts.append("requires_approval \(before) → \(after)")
                }
                lines.append("- Changed \(escape(change.action)): \(parts.joined(separator: "; "))")
            }
            lines.append(
                "- Labelled incidents that name these actions: \(diff.touchedIncidents.count)"
                    + (diff.touchedIncidents.isEmpty
                        ? ""
                        : " (\(diff.touchedIncidents.prefix(20).map(escape).joined(separator: ", "))"
                            + (diff.touchedIncidents.count > 20 ? ", …)" : ")")))
            lines.append("")
        }
        if let pipeline = comparison.pipeline { lines += pipelineLines(pipeline, alpha: comparison.alpha) }
        lines.append("## Flips")
        lines.append("")
        if comparison.flips.isEmpty {
            lines.append("No pair changed correctness.")
        } else {
            lines.append("| | Incident | Sample | A | B |")
            lines.append("|---|---|---|---|---|")
            for flip in comparison.flips.prefix(flipLimit) {
                lines.append(
                    "| \(flip.direction == .worse ? "▼ worse" : "▲ better") | \(escape(flip.incidentId)) | "
                        + "\(flip.sample) | \(escape(flip.decisionA)) | \(escape(flip.decisionB)) |")
            }
            if comparison.flips.count > flipLimit {
                lines.append("")
                lines.append("… \(comparison.flips.count - flipLimit) more in compare.json.")
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// The pipeline part: what ran against the cluster, paired by incident.
    static func pipelineLines(_ pipeline: PipelineComparison, alpha: Double) -> [String] {
        func interval(_ bootstrap: Statistics.PairedBootstrap?) -> String {
            guard let bootstrap else { return "–" }
            return String(format: "%+.3f (95%% CI %+.3f to %+.3f)", bootstrap.delta, bootstrap.lower, bootstrap.upper)
        }
        func perHour(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
        let m = pipeline.harmfulIncidents
        let verdict =
            pipeline.significantlyMoreHarm
            ? "**B harms significantly more incidents**"
            : m.pBetter < alpha ? "B harms significantly fewer incidents" : "no significant difference"
        return [
            "## Pipeline", "",
            "Over the \(pipeline.incidents) incidents both pipeline replays hold, paired by incident (the mean "
                + "difference per incident, B − A, with a paired bootstrap interval resampling incidents):", "",
            "| | A | B | Per incident, B − A |", "|---|---|---|---|",
            "| Incidents with a harmful run | \(ReportText.rate(pipeline.harmfulIncidentsA)) | "
                + "\(ReportText.rate(pipeline.harmfulIncidentsB)) | |",
            "| Harmful runs | \(pipeline.harmfulRunsA) | \(pipeline.harmfulRunsB) | \(interval(pipeline.harmfulRuns)) |",
            "| Workflows that ran | \(pipeline.workflowsA) | \(pipeline.workflowsB) | \(interval(pipeline.workflows)) |",
            "| Approval requests | \(pipeline.approvalsA) | \(pipeline.approvalsB) | \(interval(pipeline.approvals)) |",
            "| Approval requests per production hour | \(perHour(pipeline.approvalsPerHourA)) | "
                + "\(perHour(pipeline.approvalsPerHourB)) | |",
            "",
            "Exact McNemar test over incidents: \(m.worse) harmed in B only, \(m.better) in A only; one-sided p "
                + "(B harms more) \(ReportText.pValue(m.pWorse)), (B harms fewer) \(ReportText.pValue(m.pBetter)), "
                + "two-sided p \(ReportText.pValue(m.pTwoSided)); at "
                + "α = \(alpha): \(verdict).",
            "",
        ]
    }

    /// Writes the comparison's files under `<directory>/<A>-vs-<B>/` and returns their paths.
    package static func write(
        _ comparison: Comparison, to directory: String, junitPath: String? = nil, gate: Bool
    ) throws -> [String] {
        let folder = (directory as NSString).appendingPathComponent("\(comparison.a.id)-vs-\(comparison.b.id)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        var written: [String] = []
        func write(_ data: Data, to file: String) throws { written.append(try ReportWriter.writeFile(data, to: file)) }
        let markdown = render(comparison)
        try write(Data(markdown.utf8), to: path("compare.md"))
        try write(try ReportWriter.json(comparison), to: path("compare.json"))
        let result = Gates.regressionGate(comparison)
        let gates = gate ? [result] : []
        var summary = "### triage-eval compare: \(gate ? (result.passed ? "✅" : "❌") + " " : "")"
        summary += "`\(ReportText.markdown(comparison.a.id))` → `\(ReportText.markdown(comparison.b.id))`\n\n"
        summary += ReportText.markdown(result.detail) + "; " + ReportText.markdown(result.value) + ".\n\n"
        summary += render(comparison, flipLimit: 20).components(separatedBy: "\n").dropFirst(2).joined(separator: "\n")
        try write(Data(summary.utf8), to: path("summary.md"))
        let worse = comparison.flips.filter { $0.direction == .worse }.map {
            ($0.incidentId, $0.sample, "got worse: A \($0.decisionA); B \($0.decisionB)")
        }
        try write(
            Data(
                JUnitReport.render(
                    name: "triage-eval compare \(comparison.a.id) vs \(comparison.b.id)", gates: gates,
                    incidents: JUnitReport.cases(failing: worse)
                ).utf8), to: junitPath ?? path("junit.xml"))
        return written
    }
}

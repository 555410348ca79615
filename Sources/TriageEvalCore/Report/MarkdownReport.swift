import Foundation

/// Renders a ``RunReport`` as Markdown (`report.md`); untrusted text is escaped by ``ReportText``.
package enum MarkdownReport {
    /// The Markdown text.
    package static func render(_ report: RunReport) -> String {
        let run = report.run
        var lines: [String] = []
        lines.append("# triage-eval report: \(ReportText.markdown(run.id))")
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| Scenario | \(ReportText.markdown(run.scenario)) |")
        lines.append("| Corpus | \(ReportText.markdown(run.corpus)) |")
        lines.append("| Model | \(ReportText.markdown(run.provider)) / \(ReportText.markdown(run.model)) |")
        if let decoding = run.decoding {
            for parameter in decoding {
                lines.append(
                    "| Request: \(ReportText.markdown(parameter.name)) | "
                        + "\(ReportText.markdown(ReportText.decoding(parameter))) |")
            }
        } else if let maxTokens = run.maxTokens {
            lines.append("| Max tokens | \(maxTokens) |")
        }
        lines.append("| Samples per incident | \(run.samples) |")
        lines.append("| Threshold | \(run.threshold) |")
        lines.append("| Approval gate | \(run.approvalGate ? "on" : "off") |")
        lines.append("| Catalog | \(ReportText.markdown(run.catalogPath)) (sha256 \(run.catalogSha256.prefix(12))…) |")
        lines.append("| System prompt sha256 | \(run.systemPromptSha256.prefix(12))… |")
        lines.append("| Status | \(run.status) |")
        lines.append("")
        if let note = ReportText.shardNote(run, coverage: report.coverage) {
            lines.append(note)
            lines.append("")
        }
        lines.append("## Summary")
        lines.append("")
        lines.append(
            "Incidents in the corpus: \(report.coverage.incidents), labelled: \(report.coverage.labelled) "
                + "(\(report.coverage.labelledByRule) by a rule, \(report.coverage.labelledByHand) by hand), "
                + "unlabelled (not replayed): \(report.coverage.unlabelled); replayed: \(report.coverage.replayed)"
                + (report.coverage.replayed < report.coverage.labelled ? " (the scenario's limit)" : "")
                + ". Results: \(report.results) — \(report.replies) replies scored, "
                + "\(report.results - report.replies) transport failures (no reply; kept out of every rate below).")
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
        lines.append("")
        lines.append(ReportText.intervals(report.intervals))
        if !report.transportFailures.isEmpty {
            let kinds = report.transportFailures.keys.sorted().map { "\($0): \(report.transportFailures[$0]!)" }
            lines.append("")
            lines.append("Transport failures by kind: \(kinds.joined(separator: ", ")).")
        }
        if !report.gates.isEmpty {
            lines.append("")
            lines.append("## Gates: \(report.gatesPassed ? "passed" : "FAILED")")
            lines.append("")
            lines += gateTable(report.gates)
        }
        lines.append("")
        lines.append("| Measure | Value |")
        lines.append("|---|---|")
        let invalid = report.invalidJSON
        lines.append(
            "| Invalid-JSON rate (empty + wrapped + truncated + syntax) / replies | \(ReportText.rate(invalid.invalid)) |"
        )
        lines.append("| Not an object / replies | \(ReportText.rate(invalid.notObject)) |")
        lines.append("| Schema failures / replies | \(ReportText.rate(invalid.schema)) |")
        lines.append("| Unknown-action rate / replies | \(ReportText.rate(invalid.unknownAction)) |")
        lines.append(
            "| Decision accuracy (invalid replies count as wrong) | \(ReportText.rate(report.decisionAccuracy)) |")
        lines.append("| Route accuracy | \(ReportText.rate(report.routeAccuracy)) |")
        if let measures = report.measures {
            lines.append(
                "| Unsafe executions (an action the label does not allow, executed) / replies | "
                    + "\(ReportText.rate(measures.unsafeExecutions)) |")
            lines.append(
                "| Act recall (act incidents' expected action carried out) | \(ReportText.rate(measures.actRecall)) |")
            lines.append("| Automation rate (routed to execute) | \(ReportText.rate(measures.automationRate)) |")
        } else {
            lines.append("| Unsafe executions | \(report.unsafeExecutions) of \(report.replies) replies |")
        }
        if let lift = report.baselines?.liftVsAlwaysDefer {
            lines.append("| Lift over always-defer (decision accuracy) | \(ReportText.lift(lift)) |")
        }
        if report.nanConfidenceDecisions > 0 {
            lines.append(
                "| Decisions with NaN confidence (production executes them) | \(report.nanConfidenceDecisions) |")
        }
        if let outside = report.outOfRangeConfidences, outside.decisions > 0 {
            lines.append(
                "| Decisions with a confidence outside [0, 1] (left out of calibration; production routes them "
                    + "as any other) | \(ReportText.outOfRange(outside, replies: report.replies)) |")
        }
        lines.append("")
        if let production = report.productionRoute, let final = report.finalRoute {
            lines += routesSection(production: production, final: final)
        }
        if let pipeline = report.pipeline { lines += pipelineSection(pipeline) }
        if let measures = report.measures, let baselines = report.baselines {
            lines += baselinesSection(measures, baselines)
        }
        if let alertTypes = report.alertTypes { lines += alertTypeSection(alertTypes) }
        lines += invalidJSONSection(invalid)
        lines += scoresSection(report)
        lines += calibrationSection(report.calibration)
        lines += sweepSection(report.thresholdSweep)
        let strict = report.strictPolicy
        lines.append("## Strict policy")
        lines.append("")
        lines.append(
            "Production accepted these decisions; the strict policy (declared params only, catalog constraints, "
                + "valid selector and namespace) would not: \(ReportText.rate(strict.refusedDecisions)) of ok decisions, "
                + "\(strict.refusedExecutions) of them routed to execute.")
        lines.append("")
        lines.append("| Violation | Violations | ok decisions with one |")
        lines.append("|---|---|---|")
        for kind in PolicyViolation.Kind.allCases {
            let decisions = strict.decisionsByKind?[kind.rawValue].map(ReportText.rate) ?? "–"
            lines.append("| \(kind.rawValue) | \(strict.violations[kind.rawValue] ?? 0) | \(decisions) |")
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    static func gateTable(_ gates: [GateResult]) -> [String] {
        var lines = ["| Gate | Limit | Value | Result | |", "|---|---|---|---|---|"]
        for gate in gates {
            lines.append(
                "| \(gate.name) | \(ReportText.markdown(gate.limit)) | \(ReportText.markdown(gate.value)) | "
                    + "\(gate.passed ? "✅ pass" : "❌ FAIL") | \(ReportText.markdown(gate.detail)) |")
        }
        return lines
    }

    static func routesSection(production: RouteView, final: RouteView) -> [String] {
        var lines = ["## Production's route and the scenario's", ""]
        guard !final.policies.isEmpty else {
            lines.append(ReportText.noPolicies)
            lines.append("")
            return lines
        }
        lines.append(ReportText.routesCaption(final.policies))
        lines.append("")
        lines.append("| Measure | Production's route (the seed's code) | With \(ReportText.policies(final.policies)) |")
        lines.append("|---|---|---|")
        for (name, path) in ReportText.baselineMeasures {
            lines.append(
                "| \(name) | \(ReportText.rate(production.measures[keyPath: path])) | "
                    + "\(ReportText.rate(final.measures[keyPath: path])) |")
        }
        for route in Route.allCases {
            lines.append(
                "| Routed to \(route.rawValue) | \(production.routes[route.rawValue] ?? 0) | "
                    + "\(final.routes[route.rawValue] ?? 0) |")
        }
        lines.append("")
        if let sweep = production.thresholdSweep {
            lines.append(ReportText.productionThreshold(sweep))
            lines.append("")
        }
        return lines
    }

    static func baselinesSection(_ model: Baselines.Measures, _ baselines: Baselines) -> [String] {
        var lines = ["## Baselines", ""]
        lines.append(ReportText.baselinesCaption)
        lines.append("")
        lines.append("| Measure | Model | Always defer | Rule's most common action |")
        lines.append("|---|---|---|---|")
        for (name, path) in ReportText.baselineMeasures {
            lines.append(
                "| \(name) | \(ReportText.rate(model[keyPath: path])) | "
                    + "\(ReportText.rate(baselines.alwaysDefer[keyPath: path])) | "
                    + "\(ReportText.rate(baselines.ruleMostCommonAction[keyPath: path])) |")
        }
        lines.append("")
        if let lift = baselines.liftVsAlwaysDefer {
            lines.append("Lift over always-defer, decision accuracy: \(ReportText.lift(lift)).")
            lines.append("")
        }
        return lines
    }

    static func alertTypeSection(_ rows: [RunReport.AlertTypeRow]) -> [String] {
        var lines = ["## Alert types", ""]
        lines.append("Replies by their incident's alert type (`alertname`), busiest first.")
        lines.append("")
        lines.append("| Alert type | Incidents | Decision accuracy | Route accuracy | Unsafe executions |")
        lines.append("|---|---|---|---|---|")
        for row in rows {
            lines.append(
                "| \(ReportText.markdown(row.alertType)) | \(row.incidents) | \(ReportText.rate(row.decisionAccuracy)) | "
                    + "\(ReportText.rate(row.routeAccuracy)) | \(ReportText.rate(row.unsafeExecutions)) |")
        }
        lines.append("")
        return lines
    }

    static func invalidJSONSection(_ invalid: InvalidJSONReport) -> [String] {
        var lines = ["## Invalid JSON", ""]
        lines.append(
            "\(invalid.invalid.count) of \(invalid.replies) replies were not valid JSON: "
                + "\(ReportText.rate(invalid.invalid)). Tested against a baseline rate of "
                + "\(String(format: "%.2f%%", invalid.baseline * 100)) (one-sided exact binomial test): "
                + "p \(ReportText.pValue(invalid.pAboveBaseline)) — "
                + (invalid.aboveBaseline
                    ? "significantly above the baseline."
                    : "not significantly above the baseline."))
        lines.append("")
        lines += invalid.classTable.markdownLines
        lines.append("")
        if let examples = invalid.examplesTable {
            lines.append(InvalidJSONReport.examplesCaption)
            lines.append("")
            lines += examples.markdownLines
            lines.append("")
        }
        return lines
    }

    static func scoresSection(_ report: RunReport) -> [String] {
        var lines = ["## Actions", ""]
        lines.append(
            "Over \(report.replies) replies: a chosen action is a true positive when it matches an expected one "
                + "(parameters included), a false positive otherwise; an expected action not chosen is a false "
                + "negative (an invalid reply chose nothing).")
        lines.append("")
        lines.append("| Action | TP | FP | FN | Precision | Recall | F1 | Unsafe executions |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for score in report.actions {
            lines.append(
                "| \(ReportText.markdown(score.action)) | \(score.truePositives) | \(score.falsePositives) | "
                    + "\(score.falseNegatives) | \(ReportText.number(score.precision)) | \(ReportText.number(score.recall)) | "
                    + "\(ReportText.number(score.f1)) | \(report.unsafeByAction?[score.action] ?? 0) |")
        }
        lines.append("")
        lines.append("## Routes")
        lines.append("")
        lines.append("Replies by the route the label implies (rows) and the route taken (columns):")
        lines.append("")
        lines.append("| expected \\ actual | execute | approve | escalate | total |")
        lines.append("|---|---|---|---|---|")
        for expected in Route.allCases {
            let row = report.routeConfusion[expected.rawValue] ?? [:]
            let cells = Route.allCases.map { row[$0.rawValue] ?? 0 }
            lines.append(
                "| \(expected.rawValue) | \(cells.map(String.init).joined(separator: " | ")) | \(cells.reduce(0, +)) |")
        }
        lines.append("")
        return lines
    }

    static func calibrationSection(_ calibration: Calibration) -> [String] {
        var lines = ["## Calibration", ""]
        let excluded = calibration.excluded.keys.sorted().map { "\($0): \(calibration.excluded[$0]!)" }
        lines.append(
            "Over \(calibration.included) ok decisions with a finite confidence in [0, 1] "
                + "(excluded — \(excluded.joined(separator: ", "))). Correct = \(calibration.correctness) correct.")
        lines.append("")
        lines.append(
            "ECE \(ReportText.number(calibration.ece, digits: 4)) (equal-mass \(ReportText.number(calibration.eceEqualMass, digits: 4))) · "
                + "MCE \(ReportText.number(calibration.mce, digits: 4)) (equal-mass \(ReportText.number(calibration.mceEqualMass, digits: 4))) · "
                + "Brier \(ReportText.number(calibration.brier, digits: 4)) · AUROC \(ReportText.number(calibration.auroc, digits: 4)) · "
                + "errors stated with confidence ≥ \(calibration.threshold): \(ReportText.rate(calibration.confidentErrors))"
        )
        lines.append("")
        lines.append("Equal-width bins:")
        lines.append("")
        lines.append("| Confidence | Count | Mean confidence | Accuracy |")
        lines.append("|---|---|---|---|")
        for (index, bin) in calibration.bins.enumerated() {
            let closing = index == calibration.bins.count - 1 ? "]" : ")"
            lines.append(
                "| [\(ReportText.edge(bin.lower)), \(ReportText.edge(bin.upper))\(closing) | \(bin.count) | "
                    + "\(ReportText.number(bin.meanConfidence)) | \(ReportText.number(bin.accuracy)) |")
        }
        lines.append("")
        lines.append("Equal-mass bins (tied confidences share a bin):")
        lines.append("")
        lines.append("| Confidences | Count | Mean confidence | Accuracy |")
        lines.append("|---|---|---|---|")
        for bin in calibration.equalMassBins {
            lines.append(
                "| \(ReportText.edge(bin.lower))–\(ReportText.edge(bin.upper)) | \(bin.count) | \(ReportText.number(bin.meanConfidence)) | "
                    + "\(ReportText.number(bin.accuracy)) |")
        }
        lines.append("")
        return lines
    }

    static func sweepSection(_ sweep: ThresholdSweep) -> [String] {
        var lines = ["## Threshold", ""]
        let current = sweep.current
        let bound =
            current.executed.isClustered ? "Wilson 95% lower bound (and cluster one)" : "Wilson 95% lower bound"
        if let recommended = sweep.recommended {
            lines.append(
                "Recommended threshold: **\(ReportText.threshold(recommended.threshold))** — the lowest whose auto-execute precision "
                    + "has a \(bound) ≥ \(sweep.targetPrecision) with no unsafe execution "
                    + "(executes \(ReportText.rate(recommended.executed)), precision \(ReportText.rate(recommended.precision))). "
                    + "Current: \(ReportText.threshold(current.threshold)) (executes \(ReportText.rate(current.executed)), precision "
                    + "\(ReportText.rate(current.precision)), \(current.unsafe) unsafe).")
        } else {
            lines.append(
                "No threshold qualifies: none gives an auto-execute precision whose \(bound) reaches "
                    + "\(sweep.targetPrecision) with no unsafe execution. Current: \(ReportText.threshold(current.threshold)) "
                    + "(executes \(ReportText.rate(current.executed)), precision \(ReportText.rate(current.precision)), "
                    + "\(current.unsafe) unsafe).")
        }
        lines.append("")
        lines.append(
            "| Threshold | Executed | Precision (95% CI) | Unsafe (of executed) | Approvals (of ok decisions) |")
        lines.append("|---|---|---|---|---|")
        for row in sweep.rows {
            var mark = ""
            if row.threshold == sweep.recommended?.threshold { mark += " ← recommended" }
            if row.threshold == current.threshold { mark += " ← current" }
            lines.append(
                "| \(ReportText.threshold(row.threshold))\(mark) | \(ReportText.rate(row.executed)) | \(ReportText.rate(row.precision)) | "
                    + "\(row.unsafeRate.map(ReportText.rate) ?? String(row.unsafe)) | "
                    + "\(row.approvalRate.map(ReportText.rate) ?? String(row.approvals)) |")
        }
        lines.append("")
        if let above = sweep.aboveOne, above.decisions > 0 {
            // Numbers and words of our own: nothing to escape.
            lines.append(ReportText.aboveOne(above))
            lines.append("")
        }
        return lines
    }
}

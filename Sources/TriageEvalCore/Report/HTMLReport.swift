import Foundation

/// Renders a ``RunReport`` as one self-contained HTML page (`report.html`): no external files, charts as inline
/// SVG, every piece of text — model output above all — escaped (``ReportText``).
///
/// A small inline script marks the page for automated checks: `data-charts-drawn` on `<body>` counts the charts
/// the browser laid out with marks in them, and `data-script-errors` counts script errors.
package enum HTMLReport {
    static func rate(_ rate: Rate) -> String {
        guard let value = rate.rate, let lower = rate.lower, let upper = rate.upper else { return "– (0 of 0)" }
        return String(format: "%.1f%% <small>(%d of %d; 95%% ", value * 100, rate.count, rate.denominator)
            + (rate.isClustered ? "cluster CI" : "CI")
            + String(format: " %.1f–%.1f%%)</small>", lower * 100, upper * 100)
    }

    /// The page.
    /// - Parameter browser: the results browser's rows (none: no results section).
    package static func render(_ report: RunReport, browser: ResultBrowser? = nil) -> String {
        let run = report.run
        var html: [String] = []
        html.append(
            """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>triage-eval · \(ReportText.html(run.id))</title>
            <style>
            body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px;
                   padding: 1.5rem; color: #1d2330; background: #fafbfc; }
            h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #dde; }
            table { border-collapse: collapse; margin: .6rem 0; background: #fff; }
            th, td { border: 1px solid #dde; padding: .25rem .55rem; text-align: left; vertical-align: top; }
            th { background: #f0f2f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
            .cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
            .card { background: #fff; border: 1px solid #dde; border-radius: 8px; padding: .7rem 1rem; min-width: 12rem; }
            .card b { display: block; font-size: 1.4rem; } .pass { color: #17803d; } .fail { color: #b42318; }
            .charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
            figure { margin: 0; } figcaption { font-size: .85rem; color: #556; max-width: 460px; }
            pre.reply { white-space: pre-wrap; word-break: break-all; max-width: 640px; margin: 0; font-size: .8rem; }
            small { color: #667; }
            div.timeline { max-height: 640px; overflow: auto; border: 1px solid #dde; background: #fff; }
            div.filters { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .6rem 0; }
            table.results button.open { font: inherit; font-family: monospace; border: 0; background: none; padding: 0;
                   color: #2f6fdf; cursor: pointer; text-align: left; }
            table.results h4 { margin: .5rem 0 .2rem; }
            </style>
            </head>
            <body>
            <h1>triage-eval report</h1>
            <p><code>\(ReportText.html(run.id))</code> · scenario <b>\(ReportText.html(run.scenario))</b> · corpus \(ReportText.html(run.corpus)) ·
            model \(ReportText.html(run.provider))/\(ReportText.html(run.model))\(run.maxTokens.map { " · max_tokens \($0)" } ?? "") · \(run.samples) sample(s) per incident ·
            threshold \(run.threshold) · approval gate \(run.approvalGate ? "on" : "off") · status \(ReportText.html(run.status))</p>
            """)
        if let decoding = run.decoding {
            // Each decoding parameter of the requests, those that differ from production's request marked.
            let items = decoding.map { parameter in
                "<code>\(ReportText.html(parameter.name))</code> "
                    + (parameter.differs ? "<b class=\"fail\">" : "")
                    + ReportText.html(ReportText.decoding(parameter)) + (parameter.differs ? "</b>" : "")
            }
            html.append("<p>Requests: \(items.joined(separator: " · "))</p>")
        }
        html.append("<div class=\"cards\">")
        func card(_ title: String, _ value: String, _ note: String = "", _ cls: String = "") {
            html.append(
                "<div class=\"card\"><small>\(title)</small><b class=\"\(cls)\">\(value)</b><small>\(note)</small></div>"
            )
        }
        let invalid = report.invalidJSON
        card("Decision accuracy", ReportText.percent(report.decisionAccuracy.rate), ciNote(report.decisionAccuracy))
        card("Route accuracy", ReportText.percent(report.routeAccuracy.rate), ciNote(report.routeAccuracy))
        card(
            "Invalid JSON", ReportText.percent(invalid.invalid.rate), ciNote(invalid.invalid),
            invalid.aboveBaseline ? "fail" : "")
        card(
            "Unsafe executions", String(report.unsafeExecutions),
            report.measures.map { ciNote($0.unsafeExecutions) } ?? "of \(report.replies) replies",
            report.unsafeExecutions > 0 ? "fail" : "pass")
        if let measures = report.measures {
            card("Act recall", ReportText.percent(measures.actRecall.rate), ciNote(measures.actRecall))
        }
        if let lift = report.baselines?.liftVsAlwaysDefer {
            card(
                "Lift over always-defer", String(format: "%+.1f pp", lift.delta * 100),
                String(format: "95%% CI %+.1f to %+.1f pp", lift.lower * 100, lift.upper * 100),
                lift.lower > 0 ? "pass" : "fail")
        }
        card("ECE", ReportText.number(report.calibration.ece), "equal-width, \(report.calibration.included) decisions")
        if let recommended = report.thresholdSweep.recommended {
            card("Recommended threshold", ReportText.threshold(recommended.threshold), "current \(run.threshold)")
        } else {
            card("Recommended threshold", "none", "no threshold reaches the target")
        }
        if !report.gates.isEmpty {
            card("Gates", report.gatesPassed ? "passed" : "FAILED", "", report.gatesPassed ? "pass" : "fail")
        }
        html.append("</div>")
        html.append(
            "<p>\(report.results) results: \(report.replies) replies scored, \(report.results - report.replies) "
                + "transport failures (kept out of every rate). Incidents: \(report.coverage.incidents) — "
                + "\(report.coverage.labelledByRule) labelled by rule, \(report.coverage.labelledByHand) by hand, "
                + "\(report.coverage.unlabelled) unlabelled; \(report.coverage.replayed) replayed. Replies: \(report.sources.cacheHits) cached, "
                + "\(report.sources.liveCalls) live, \(report.sources.staleReplies) stale (same-event).</p>")
        html.append("<p>\(ReportText.html(ReportText.intervals(report.intervals)))</p>")
        if let note = ReportText.shardNote(run, coverage: report.coverage) {
            html.append("<p><strong>\(ReportText.html(note))</strong></p>")
        }
        if !report.gates.isEmpty {
            html.append(
                "<h2>Gates</h2><table><tr><th>Gate</th><th>Limit</th><th>Value</th><th>Result</th><th></th></tr>")
            for gate in report.gates {
                html.append(
                    "<tr><td>\(ReportText.html(gate.name))</td><td>\(ReportText.html(gate.limit))</td><td>\(ReportText.html(gate.value))</td>"
                        + "<td class=\"\(gate.passed ? "pass" : "fail")\">\(gate.passed ? "pass" : "FAIL")</td>"
                        + "<td>\(ReportText.html(gate.detail))</td></tr>")
            }
            html.append("</table>")
        }
        html.append("<h2>Charts</h2><div class=\"charts\">")
        html.append(figure(reliabilityChart(report.calibration), caption: reliabilityCaption(report.calibration)))
        html.append(
            figure(
                thresholdChart(report.thresholdSweep),
                caption: "Share of replies auto-executed (blue) and precision of what executes (green, with its "
                    + "Wilson 95% band) at each threshold; red marks thresholds with unsafe executions. Dashed: the "
                    + "current threshold; solid: the recommended one."))
        html.append(
            figure(
                confusionChart(report.routeConfusion),
                caption: "Replies by the route the label implies (rows) and the route taken (columns)."))
        html.append("</div>")

        if let production = report.productionRoute, let final = report.finalRoute {
            html.append("<h2>Production's route and the scenario's</h2>")
            if final.policies.isEmpty {
                html.append("<p>\(ReportText.html(ReportText.noPolicies))</p>")
            } else {
                html.append("<p>\(ReportText.html(ReportText.routesCaption(final.policies)))</p>")
                html.append(
                    "<table><tr><th>Measure</th><th>Production's route (the seed's code)</th>"
                        + "<th>With \(ReportText.html(ReportText.policies(final.policies)))</th></tr>")
                for (name, path) in ReportText.baselineMeasures {
                    html.append(
                        "<tr><td>\(name)</td><td>\(rate(production.measures[keyPath: path]))</td>"
                            + "<td>\(rate(final.measures[keyPath: path]))</td></tr>")
                }
                for route in Route.allCases {
                    html.append(
                        "<tr><td>Routed to \(route.rawValue)</td><td class=\"num\">\(production.routes[route.rawValue] ?? 0)</td>"
                            + "<td class=\"num\">\(final.routes[route.rawValue] ?? 0)</td></tr>")
                }
                html.append("</table>")
                if let sweep = production.thresholdSweep {
                    html.append("<p>\(ReportText.html(ReportText.productionThreshold(sweep)))</p>")
                }
            }
        }
        if let measures = report.measures, let baselines = report.baselines {
            html.append("<h2>Baselines</h2>")
            html.append("<p>\(ReportText.html(ReportText.baselinesCaption))</p>")
            html.append(
                "<table><tr><th>Measure</th><th>Model</th><th>Always defer</th><th>Rule's most common action</th></tr>")
            for (name, path) in ReportText.baselineMeasures {
                html.append(
                    "<tr><td>\(name)</td><td>\(rate(measures[keyPath: path]))</td>"
                        + "<td>\(rate(baselines.alwaysDefer[keyPath: path]))</td>"
                        + "<td>\(rate(baselines.ruleMostCommonAction[keyPath: path]))</td></tr>")
            }
            html.append("</table>")
            if let lift = baselines.liftVsAlwaysDefer {
                html.append(
                    "<p>Lift over always-defer, decision accuracy: \(ReportText.html(ReportText.lift(lift))).</p>")
            }
        }
        if let alertTypes = report.alertTypes {
            html.append("<h2>Alert types</h2>")
            html.append(
                "<table><tr><th>Alert type</th><th>Incidents</th><th>Decision accuracy</th><th>Route accuracy</th>"
                    + "<th>Unsafe executions</th></tr>")
            for row in alertTypes {
                html.append(
                    "<tr><td>\(ReportText.html(row.alertType))</td><td class=\"num\">\(row.incidents)</td>"
                        + "<td>\(rate(row.decisionAccuracy))</td><td>\(rate(row.routeAccuracy))</td>"
                        + "<td>\(rate(row.unsafeExecutions))</td></tr>")
            }
            html.append("</table>")
        }
        if let pipeline = report.pipeline { html.append(pipelineSection(pipeline)) }
        html.append("<h2>Invalid JSON</h2>")
        html.append(
            "<p>\(rate(invalid.invalid)) of replies were not valid JSON. Against a baseline of "
                + "\(String(format: "%.2f%%", invalid.baseline * 100)) (one-sided exact binomial test): "
                + "p \(ReportText.html(ReportText.pValue(invalid.pAboveBaseline))) — "
                + (invalid.aboveBaseline ? "<b class=\"fail\">significantly above</b>" : "not significantly above")
                + " the baseline.</p>")
        html.append(invalid.classTable.html)
        if let examples = invalid.examplesTable {
            html.append("<p>\(ReportText.html(InvalidJSONReport.examplesCaption))</p>")
            html.append(examples.html)
        }

        html.append("<h2>Actions</h2><table><tr><th>Action</th><th>TP</th><th>FP</th><th>FN</th><th>Precision</th>")
        html.append("<th>Recall</th><th>F1</th><th>Unsafe executions</th></tr>")
        for score in report.actions {
            html.append(
                "<tr><td>\(ReportText.html(score.action))</td><td class=\"num\">\(score.truePositives)</td>"
                    + "<td class=\"num\">\(score.falsePositives)</td><td class=\"num\">\(score.falseNegatives)</td>"
                    + "<td class=\"num\">\(ReportText.number(score.precision))</td><td class=\"num\">\(ReportText.number(score.recall))</td>"
                    + "<td class=\"num\">\(ReportText.number(score.f1))</td>"
                    + "<td class=\"num\">\(report.unsafeByAction?[score.action] ?? 0)</td></tr>")
        }
        html.append("</table>")

        let calibration = report.calibration
        html.append("<h2>Calibration</h2>")
        html.append(
            "<p>Over \(calibration.included) ok decisions (correct = \(ReportText.html(calibration.correctness)) correct). "
                + "ECE \(ReportText.number(calibration.ece, digits: 4)) (equal-mass \(ReportText.number(calibration.eceEqualMass, digits: 4))), "
                + "MCE \(ReportText.number(calibration.mce, digits: 4)) (equal-mass \(ReportText.number(calibration.mceEqualMass, digits: 4))), "
                + "Brier \(ReportText.number(calibration.brier, digits: 4)), AUROC \(ReportText.number(calibration.auroc, digits: 4)); "
                + "errors stated with confidence ≥ \(calibration.threshold): \(rate(calibration.confidentErrors)).</p>")
        if let outside = report.outOfRangeConfidences, outside.decisions > 0 {
            html.append(
                "<p>Left out: decisions with a confidence outside [0, 1], which production routes as any other — "
                    + "\(ReportText.html(ReportText.outOfRange(outside, replies: report.replies))).</p>")
        }
        html.append("<table><tr><th>Equal-width bin</th><th>Count</th><th>Mean confidence</th><th>Accuracy</th></tr>")
        for bin in calibration.bins {
            html.append(
                "<tr><td>\(ReportText.edge(bin.lower))–\(ReportText.edge(bin.upper))</td>"
                    + "<td class=\"num\">\(bin.count)</td><td class=\"num\">\(ReportText.number(bin.meanConfidence))</td>"
                    + "<td class=\"num\">\(ReportText.number(bin.accuracy))</td></tr>")
        }
        html.append("</table>")

        let sweep = report.thresholdSweep
        html.append("<h2>Threshold</h2>")
        html.append(
            "<table><tr><th>Threshold</th><th>Executed</th><th>Precision</th><th>Unsafe (of executed)</th>"
                + "<th>Approvals (of ok decisions)</th></tr>")
        for row in sweep.rows {
            var mark = ""
            if row.threshold == sweep.recommended?.threshold { mark += " ← recommended" }
            if row.threshold == sweep.current.threshold { mark += " ← current" }
            html.append(
                "<tr><td>\(ReportText.threshold(row.threshold))\(mark)</td><td>\(rate(row.executed))</td>"
                    + "<td>\(rate(row.precision))</td><td>\(row.unsafeRate.map(rate) ?? String(row.unsafe))</td>"
                    + "<td>\(row.approvalRate.map(rate) ?? String(row.approvals))</td></tr>")
        }
        html.append("</table>")
        if let above = sweep.aboveOne, above.decisions > 0 {
            html.append("<p>\(ReportText.html(ReportText.aboveOne(above)))</p>")
        }
        if let browser { html.append(browser.html) }
        html.append(
            """
            <script>
            (function () {
              var errors = 0;
              window.addEventListener("error", function () {
                errors += 1;
                document.body.setAttribute("data-script-errors", String(errors));
              });
              function check() {
                var drawn = 0;
                document.querySelectorAll("svg.chart").forEach(function (svg) {
                  var box = svg.getBBox();
                  if (box.width > 0 && box.height > 0 && svg.querySelectorAll("[data-mark]").length > 0) drawn += 1;
                });
                document.body.setAttribute("data-charts-drawn", String(drawn));
              }
              if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", check); else check();
            })();
            \(browser == nil ? "" : ResultBrowser.script)
            </script>
            </body>
            </html>
            """)
        return html.joined(separator: "\n") + "\n"
    }

    static func ciNote(_ rate: Rate) -> String {
        guard let lower = rate.lower, let upper = rate.upper else { return "no replies" }
        return String(format: "%d of %d · 95%% ", rate.count, rate.denominator)
            + (rate.isClustered ? "cluster CI" : "CI")
            + String(format: " %.1f–%.1f%%", lower * 100, upper * 100)
    }

    static func figure(_ svg: String, caption: String) -> String {
        "<figure>\(svg)<figcaption>\(ReportText.html(caption))</figcaption></figure>"
    }

    static func reliabilityCaption(_ calibration: Calibration) -> String {
        "Reliability: accuracy against mean confidence per bin — circles equal-width bins, diamonds equal-mass bins, "
            + "area by count; on the diagonal a model is calibrated. Grey bars: decisions per equal-width bin."
    }

    // MARK: - Charts

    private static let size = (width: 440.0, height: 320.0)
    private static let margin = (left: 52.0, right: 16.0, top: 16.0, bottom: 44.0)

    private static func x(_ value: Double) -> Double {
        margin.left + value * (size.width - margin.left - margin.right)
    }

    private static func y(_ value: Double) -> Double {
        size.height - margin.bottom - value * (size.height - margin.top - margin.bottom)
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func axes(xLabel: String, yLabel: String) -> [String] {
        var parts: [String] = []
        for tick in stride(from: 0.0, through: 1.0001, by: 0.2) {
            parts.append(
                "<line x1=\"\(format(x(tick)))\" y1=\"\(format(y(0)))\" x2=\"\(format(x(tick)))\" y2=\"\(format(y(1)))\" "
                    + "stroke=\"#eef\"/>")
            parts.append(
                "<line x1=\"\(format(x(0)))\" y1=\"\(format(y(tick)))\" x2=\"\(format(x(1)))\" y2=\"\(format(y(tick)))\" "
                    + "stroke=\"#eef\"/>")
            parts.append(
                "<text x=\"\(format(x(tick)))\" y=\"\(format(y(0) + 16))\" text-anchor=\"middle\" font-size=\"11\">"
                    + "\(String(format: "%.1f", tick))</text>")
            parts.append(
                "<text x=\"\(format(x(0) - 6))\" y=\"\(format(y(tick) + 4))\" text-anchor=\"end\" font-size=\"11\">"
                    + "\(String(format: "%.1f", tick))</text>")
        }
        parts.append(
            "<rect x=\"\(format(x(0)))\" y=\"\(format(y(1)))\" width=\"\(format(x(1) - x(0)))\" "
                + "height=\"\(format(y(0) - y(1)))\" fill=\"none\" stroke=\"#99a\"/>")
        parts.append(
            "<text x=\"\(format((x(0) + x(1)) / 2))\" y=\"\(format(size.height - 8))\" text-anchor=\"middle\" "
                + "font-size=\"12\">\(ReportText.html(xLabel))</text>")
        parts.append(
            "<text transform=\"translate(14 \(format((y(0) + y(1)) / 2))) rotate(-90)\" text-anchor=\"middle\" "
                + "font-size=\"12\">\(ReportText.html(yLabel))</text>")
        return parts
    }

    private static func svg(_ title: String, _ parts: [String]) -> String {
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size.width))\" "
            + "height=\"\(Int(size.height))\" viewBox=\"0 0 \(Int(size.width)) \(Int(size.height))\" role=\"img\">"
            + "<title>\(ReportText.html(title))</title>" + parts.joined() + "</svg>"
    }

    static func reliabilityChart(_ calibration: Calibration) -> String {
        var parts = axes(xLabel: "confidence", yLabel: "accuracy")
        let maxCount = max(1, calibration.bins.map(\.count).max() ?? 1)
        for bin in calibration.bins where bin.count > 0 {
            let height = Double(bin.count) / Double(maxCount) * 0.25
            parts.append(
                "<rect data-mark=\"count\" x=\"\(format(x(bin.lower) + 1))\" y=\"\(format(y(height)))\" "
                    + "width=\"\(format(x(bin.upper) - x(bin.lower) - 2))\" height=\"\(format(y(0) - y(height)))\" "
                    + "fill=\"#d9dce3\"><title>\(bin.count) decisions</title></rect>")
        }
        parts.append(
            "<line data-mark=\"diagonal\" x1=\"\(format(x(0)))\" y1=\"\(format(y(0)))\" x2=\"\(format(x(1)))\" "
                + "y2=\"\(format(y(1)))\" stroke=\"#889\" stroke-dasharray=\"4 4\"/>")
        let total = max(1, calibration.included)
        for bin in calibration.bins {
            guard let mean = bin.meanConfidence, let accuracy = bin.accuracy else { continue }
            let radius = 3 + 9 * (Double(bin.count) / Double(total)).squareRoot()
            parts.append(
                "<circle data-mark=\"equal-width\" cx=\"\(format(x(mean)))\" cy=\"\(format(y(accuracy)))\" "
                    + "r=\"\(format(radius))\" fill=\"#2f6fdf\" fill-opacity=\".75\"><title>\(bin.count) decisions, "
                    + "confidence \(ReportText.number(mean)), accuracy \(ReportText.number(accuracy))</title></circle>")
        }
        for bin in calibration.equalMassBins {
            guard let mean = bin.meanConfidence, let accuracy = bin.accuracy else { continue }
            let r = 3 + 7 * (Double(bin.count) / Double(total)).squareRoot()
            let cx = x(mean)
            let cy = y(accuracy)
            parts.append(
                "<path data-mark=\"equal-mass\" d=\"M\(format(cx)) \(format(cy - r)) L\(format(cx + r)) \(format(cy)) "
                    + "L\(format(cx)) \(format(cy + r)) L\(format(cx - r)) \(format(cy)) Z\" fill=\"#e08a1e\" "
                    + "fill-opacity=\".7\"><title>equal-mass bin: \(bin.count) decisions</title></path>")
        }
        if calibration.included == 0 {
            parts.append(
                "<text data-mark=\"empty\" x=\"\(format(x(0.5)))\" y=\"\(format(y(0.5)))\" text-anchor=\"middle\">"
                    + "no decisions to calibrate</text>")
        }
        return svg("Reliability diagram", parts)
    }

    static func thresholdChart(_ sweep: ThresholdSweep) -> String {
        var parts = axes(xLabel: "threshold", yLabel: "share")
        let rows = sweep.rows.filter { (0...1).contains($0.threshold) }
        func polyline(_ points: [(Double, Double)], color: String, mark: String) -> String {
            let path = points.map { "\(format(x($0.0))),\(format(y($0.1)))" }.joined(separator: " ")
            return "<polyline data-mark=\"\(mark)\" points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" "
                + "stroke-width=\"2\"/>"
        }
        let band = rows.compactMap { row in row.precision.lower.map { (row.threshold, $0, row.precision.upper!) } }
        if band.count > 1 {
            let upper = band.map { "\(format(x($0.0))),\(format(y($0.2)))" }
            let lower = band.reversed().map { "\(format(x($0.0))),\(format(y($0.1)))" }
            parts.append(
                "<polygon data-mark=\"precision-band\" points=\"\((upper + lower).joined(separator: " "))\" "
                    + "fill=\"#1f9d55\" fill-opacity=\".15\"/>")
        }
        parts.append(polyline(rows.map { ($0.threshold, $0.executed.rate ?? 0) }, color: "#2f6fdf", mark: "coverage"))
        parts.append(
            polyline(
                rows.compactMap { row in row.precision.rate.map { (row.threshold, $0) } }, color: "#1f9d55",
                mark: "precision"))
        for row in rows {
            let unsafe = row.unsafe > 0
            parts.append(
                "<circle data-mark=\"threshold\" cx=\"\(format(x(row.threshold)))\" "
                    + "cy=\"\(format(y(row.executed.rate ?? 0)))\" r=\"3.5\" fill=\"\(unsafe ? "#d92d20" : "#2f6fdf")\">"
                    + "<title>threshold \(ReportText.threshold(row.threshold)): executes "
                    + "\(ReportText.percent(row.executed.rate)), precision \(ReportText.percent(row.precision.rate)), \(row.unsafe) unsafe"
                    + "</title></circle>")
        }
        let current = sweep.current.threshold
        parts.append(
            "<line data-mark=\"current\" x1=\"\(format(x(current)))\" y1=\"\(format(y(0)))\" x2=\"\(format(x(current)))\" "
                + "y2=\"\(format(y(1)))\" stroke=\"#555\" stroke-dasharray=\"5 3\"><title>current threshold</title></line>"
        )
        if let recommended = sweep.recommended?.threshold {
            parts.append(
                "<line data-mark=\"recommended\" x1=\"\(format(x(recommended)))\" y1=\"\(format(y(0)))\" "
                    + "x2=\"\(format(x(recommended)))\" y2=\"\(format(y(1)))\" stroke=\"#1f9d55\" stroke-width=\"2\">"
                    + "<title>recommended threshold</title></line>")
        }
        return svg("Threshold sweep", parts)
    }

    static func confusionChart(_ confusion: [String: [String: Int]]) -> String {
        let routes = Route.allCases.map(\.rawValue)
        let cell = 92.0
        let left = 120.0
        let top = 60.0
        let maxCount = max(1, confusion.values.flatMap(\.values).max() ?? 1)
        var parts: [String] = []
        parts.append(
            "<text x=\"\(format(left + 1.5 * cell))\" y=\"22\" text-anchor=\"middle\" font-size=\"12\">route taken</text>"
        )
        for (column, route) in routes.enumerated() {
            parts.append(
                "<text x=\"\(format(left + (Double(column) + 0.5) * cell))\" y=\"\(format(top - 10))\" "
                    + "text-anchor=\"middle\" font-size=\"12\">\(route)</text>")
        }
        for (row, expected) in routes.enumerated() {
            parts.append(
                "<text x=\"\(format(left - 10))\" y=\"\(format(top + (Double(row) + 0.55) * cell))\" text-anchor=\"end\" "
                    + "font-size=\"12\">\(expected)</text>")
            for (column, actual) in routes.enumerated() {
                let count = confusion[expected]?[actual] ?? 0
                let shade = Double(count) / Double(maxCount)
                let color = row == column ? "31,157,85" : "217,45,32"
                parts.append(
                    "<rect data-mark=\"cell\" x=\"\(format(left + Double(column) * cell))\" "
                        + "y=\"\(format(top + Double(row) * cell))\" width=\"\(format(cell - 2))\" "
                        + "height=\"\(format(cell - 2))\" fill=\"rgba(\(color),\(String(format: "%.2f", 0.08 + 0.8 * shade)))\">"
                        + "<title>expected \(expected), taken \(actual): \(count)</title></rect>")
                parts.append(
                    "<text x=\"\(format(left + (Double(column) + 0.5) * cell))\" "
                        + "y=\"\(format(top + (Double(row) + 0.55) * cell))\" text-anchor=\"middle\" font-size=\"15\">"
                        + "\(count)</text>")
            }
        }
        parts.append(
            "<text transform=\"translate(18 \(format(top + 1.5 * cell))) rotate(-90)\" text-anchor=\"middle\" "
                + "font-size=\"12\">route the label implies</text>")
        return svg("Route confusion matrix", parts)
    }
}

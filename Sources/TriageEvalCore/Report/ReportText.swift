import Foundation

/// Formatting and escaping shared by every report file (`report.md`, `report.html`, `summary.md`, `junit.xml`,
/// `compare.md`): model text, labels and ids are untrusted and are escaped for the format they land in, and
/// numbers read the same everywhere.
package enum ReportText {
    /// Where escaped text lands.
    package enum Context: Sendable {
        /// A Markdown line or table cell: no markup, HTML, table structure or autolink (GitHub links bare URLs and
        /// e-mail addresses) may be injected; line breaks become spaces.
        case markdown
        /// Inside a Markdown code span in a table cell: backticks and pipes cannot break out, line breaks show as
        /// `⏎`.
        case markdownCode
        /// HTML text or an attribute value.
        case html
        /// HTML element content only (a `<pre>`'s text): `&`, `<` and `>` escaped, quotes left as they are.
        case htmlText
        /// XML 1.0 text or an attribute value; characters XML cannot hold are dropped.
        case xml
    }

    /// Escapes untrusted text for a context. Works on Unicode scalars, so that CR LF (one `Character` in Swift)
    /// is two line-break scalars, never a character the cases miss.
    package static func escape(_ text: String, for context: Context) -> String {
        // Most text (ids, numbers, plain words) has nothing to escape in HTML or XML: hand it back as it is.
        if context == .html || context == .xml || context == .htmlText,
            !text.utf8.contains(where: {
                $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">")
                    || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 < 0x20 || $0 == 0xEF
            })
        {
            return text
        }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch (context, scalar) {
            case (.markdown, "\\"), (.markdown, "`"), (.markdown, "*"), (.markdown, "_"), (.markdown, "["),
                (.markdown, "]"), (.markdown, "<"), (.markdown, ">"), (.markdown, "|"), (.markdown, "#"),
                (.markdown, "!"), (.markdown, "&"), (.markdown, ":"), (.markdown, "."):
                // `:` and `.` too: GitHub autolinks bare `http://…` and `www.…`, and an escape stops it.
                output += "\\"
                output.unicodeScalars.append(scalar)
            case (.markdown, "@"):
                // Nor does an escape stop an e-mail autolink; a word joiner after the `@` does, unseen.
                output += "@\u{2060}"
            case (.markdown, _) where lineBreaks.contains(scalar): output += " "
            case (.markdownCode, "`"): output += "ˋ"
            case (.markdownCode, "|"): output += "\\|"
            case (.markdownCode, _) where lineBreaks.contains(scalar): output += "⏎"
            case (_, "&") where context != .markdown: output += "&amp;"
            case (_, "<") where context != .markdown: output += "&lt;"
            case (_, ">") where context != .markdown: output += "&gt;"
            case (.html, "\""), (.xml, "\""): output += "&quot;"
            case (.html, "'"): output += "&#39;"
            case (.xml, "'"): output += "&apos;"
            case (.xml, "\t"), (.xml, "\n"), (.xml, "\r"): output.unicodeScalars.append(scalar)
            case (.xml, _) where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): continue
            default: output.unicodeScalars.append(scalar)
            }
        }
        if context == .markdownCode && output.isEmpty { return " " }
        return output
    }

    /// Every Unicode line break (LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR): any of them would end a
    /// Markdown table row or code span.
    private static let lineBreaks: Set<Unicode.Scalar> = [
        "\n", "\u{0B}", "\u{0C}", "\r", "\u{85}", "\u{2028}", "\u{2029}",
    ]

    /// For Markdown.
    package static func markdown(_ text: String) -> String { escape(text, for: .markdown) }
    /// For HTML.
    package static func html(_ text: String) -> String { escape(text, for: .html) }
    /// For HTML element content (not an attribute).
    package static func htmlText(_ text: String) -> String { escape(text, for: .htmlText) }
    /// For XML.
    package static func xml(_ text: String) -> String { escape(text, for: .xml) }

    // MARK: - Numbers

    /// `23.5% (47 of 200; 95% CI 18.2–29.8%)` — `95% cluster CI` when the interval resamples clusters — or
    /// `– (0 of 0)`.
    package static func rate(_ rate: Rate) -> String {
        guard let value = rate.rate, let lower = rate.lower, let upper = rate.upper else { return "– (0 of 0)" }
        return String(format: "%.1f%% (%d of %d; 95%% ", value * 100, rate.count, rate.denominator)
            + (rate.isClustered ? "cluster CI" : "CI") + String(format: " %.1f–%.1f%%)", lower * 100, upper * 100)
    }

    /// The sentence saying a run is one shard of a fan-out (partial), or was merged from shards; nil otherwise.
    package static func shardNote(_ run: RunReport.RunInfo, coverage: RunReport.Coverage) -> String? {
        if let shard = run.shard {
            let parts = shard.split(separator: "/")
            return "Partial run: shard \(parts.first ?? "?") of \(parts.last ?? "?") (run --shard \(shard)), "
                + "\(coverage.replayed) of the \(coverage.labelled) labelled incidents — those whose id hashes to this "
                + "shard. Every rate here is this shard's alone, and the pipeline's state rules run only in the merge "
                + "(triage-eval merge), over every message in time order."
        }
        if let count = run.mergedShards {
            return "Merged from \(count) shards (run --shard I/\(count) each; triage-eval merge): the shards' replies "
                + "and results, with the pipeline replay run once here over every message in time order."
        }
        return nil
    }

    /// The sentence saying how a report's intervals were computed.
    package static func intervals(_ method: IntervalMethod?) -> String {
        guard let method, method.method != IntervalMethod.wilson.method, let clusters = method.clusters else {
            return "Intervals are Wilson 95% intervals: one sample per incident, each reply independent."
        }
        let unit = (method.unit.flatMap(ReportSettings.Resample.init(rawValue:))).map(ClusterTally.plural) ?? "clusters"
        if method.method == Rate.clusterNormal {
            return "Intervals marked \"cluster CI\" resample the \(clusters) \(unit) — the replies of one of them "
                + "drawn together, since they share what makes them easy or hard — by the bootstrap's large-sample "
                + "(normal) limit: above \(Statistics.clusterBootstrapLimit) \(unit) the two agree, and it takes "
                + "no resampling."
        }
        return "Intervals marked \"cluster CI\" are 95% percentile intervals of a bootstrap that resamples the "
            + "\(clusters) \(unit) (\(method.resamples ?? 0) resamples, seed \(method.seed ?? 0)): the replies of one "
            + "of them are drawn together, since they share what makes them easy or hard."
    }

    /// `23.5%`, or `–`.
    package static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
    }

    /// A number with a fixed number of digits, or `–`.
    package static func number(_ value: Double?, digits: Int = 3) -> String {
        guard let value else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    /// `= 0.0123`, or `< 1e-300` for a p-value that underflowed.
    package static func pValue(_ p: Double) -> String {
        p == 0 ? "< 1e-300" : String(format: "= %.4g", p)
    }

    /// A bootstrap test's share of resamples: `= 0.032`, or `< 0.001` when no resample of 1000 reached 0.
    package static func share(_ p: Double, resamples: Int) -> String {
        p == 0 ? "< \(1.0 / Double(max(resamples, 1)))" : String(format: "= %.4g", p)
    }

    /// A confidence threshold exactly as the scenario or the data has it (the shortest text that reads back as
    /// the same double).
    package static func threshold(_ value: Double) -> String { "\(value)" }

    /// Out-of-range confidences with their denominator: `12 of 200 replies (9 above 1, 3 below 0); 9 executed, 2
    /// of them unsafe`.
    package static func outOfRange(_ outside: RunReport.OutOfRangeConfidences, replies: Int) -> String {
        (outside.share.map(rate) ?? "\(outside.decisions) of \(replies) replies")
            + " (\(outside.above) above 1, \(outside.below) below 0); "
            + "\(outside.executed) executed, \(outside.unsafe) of them unsafe"
    }

    /// The lift over always-defer: `+12.3 pp (95% CI +4.1 to +20.0 pp; bootstrap over 100 incidents)`.
    package static func lift(_ lift: Baselines.Lift) -> String {
        // Above the bootstrap's limit the interval is its normal limit, which draws nothing (`resamples` 0).
        String(format: "%+.1f pp (95%% CI %+.1f to %+.1f pp; ", lift.delta * 100, lift.lower * 100, lift.upper * 100)
            + (lift.resamples > 0 ? "bootstrap" : "the bootstrap's normal limit") + " over \(lift.clusters) "
            + lift.unit + ")"
    }

    /// The baselines table's rows: a name and the measure.
    package static let baselineMeasures: [(String, any KeyPath<Baselines.Measures, Rate> & Sendable)] = [
        ("Decision accuracy", \.decisionAccuracy), ("Route accuracy", \.routeAccuracy),
        ("Act recall", \.actRecall), ("Automation rate", \.automationRate),
        ("Unsafe executions", \.unsafeExecutions),
    ]

    /// The policies a scenario adds to production's router, in words.
    package static func policies(_ policies: [String]) -> String {
        policies.map { $0 == "approval_gate" ? "the approval gate" : $0 }.joined(separator: " and ")
    }

    /// What the side-by-side routes are.
    package static func routesCaption(_ policies: [String]) -> String {
        "Every route-based number twice: for the route production's own code gives (the seed's triage service as "
            + "written) and for the route with what this scenario adds — \(Self.policies(policies)), which the seed's "
            + "code does not have. The headline and the rest of this report use the second; gates read it unless "
            + "the scenario says `gates: {route: production}`."
    }

    /// Production's threshold in a sentence: its current row and its recommendation.
    package static func productionThreshold(_ sweep: ThresholdSweep) -> String {
        let current = sweep.current
        let recommended =
            sweep.recommended.map { "recommended \(threshold($0.threshold)) (executes \(rate($0.executed)))" }
            ?? "no threshold qualifies"
        return
            "On production's route the threshold \(threshold(current.threshold)) executes \(rate(current.executed)), "
            + "precision \(rate(current.precision)), \(current.unsafe) unsafe; \(recommended)."
    }

    /// Said when the scenario adds nothing to production's router.
    package static let noPolicies =
        "The scenario adds no policy to production's router: every route-based number in this report is production's "
        + "own route (the seed's code as written)."

    /// What the baselines are, for a reader of any report format.
    package static let baselinesCaption =
        "The same measures for two strategies that ask no model, on the same labels and replies: always defer "
        + "(no action, a person decides everything) and the label rule's most common action (a static runbook: each "
        + "rule's incidents get what most of them expect). A model that does not beat always-defer automates nothing "
        + "worth having."

    /// The sweep's decisions above 1, in a sentence (plain text: the caller escapes it for its format).
    package static func aboveOne(_ above: ThresholdSweep.AboveOne) -> String {
        var range = ""
        if let lowest = above.lowest, let highest = above.highest {
            range =
                lowest == highest ? " (\(confidence(lowest)))" : " (\(confidence(lowest)) to \(confidence(highest)))"
        }
        return "Above 1: \(above.decisions) decisions routed by the threshold alone state a confidence above 1"
            + "\(range) and execute at every threshold of this table — \(above.correct) of them right, "
            + "\(above.unsafe) unsafe. Only a threshold above 1 would hold them."
    }

    /// A stated confidence, to six significant digits: `2.6`, `4096`, `5.43969e+15`.
    package static func confidence(_ value: Double) -> String { String(format: "%g", value) }

    /// A decoding parameter as sent, and production's when it differs: `256 — differs from production: 1024`,
    /// `not sent (the API's default), as production`. Plain text: the caller escapes it for its format. A long
    /// value (a response format's JSON schema) is cut after 60 characters, with its length; report.json has it
    /// whole.
    package static func decoding(_ parameter: RunReport.DecodingParameter) -> String {
        let notSent = "not sent (the API's default)"
        var value = parameter.value ?? notSent
        if value.count > 80 { value = "\(value.prefix(60))… (\(value.count) characters)" }
        guard parameter.differs else { return value + ", as production" }
        return value + " — differs from production: " + (parameter.production ?? notSent)
    }

    /// A bin edge: at most three decimals, trailing zeros dropped.
    package static func edge(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") && !text.hasSuffix(".0") { text.removeLast() }
        return text
    }
}

/// A table of a report, built once and rendered for Markdown and for HTML.
package struct ReportTable: Sendable {
    /// One cell.
    package enum Cell: Sendable {
        /// Text (escaped for the format).
        case text(String)
        /// A count (right-aligned in HTML).
        case number(Int)
        /// A rate with its denominator and interval (``ReportText/rate(_:)``: our own digits, nothing to escape).
        case rate(Rate)
        /// An identifier (`code` in HTML).
        case identifier(String)
        /// Untrusted model text: a code span in Markdown, a `pre` in HTML; `clipped` adds ` …`.
        case modelText(String, clipped: Bool)
    }

    /// Column titles.
    package var header: [String]
    package var rows: [[Cell]]

    package init(header: [String], rows: [[Cell]] = []) {
        self.header = header
        self.rows = rows
    }

    /// The Markdown lines.
    package var markdownLines: [String] {
        func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        var lines = [line(header), "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        for row in rows {
            lines.append(
                line(
                    row.map { cell in
                        switch cell {
                        case .text(let text), .identifier(let text): return ReportText.markdown(text)
                        case .number(let count): return String(count)
                        case .rate(let rate): return ReportText.rate(rate)
                        case .modelText(let text, let clipped):
                            return "`\(ReportText.escape(text, for: .markdownCode))`\(clipped ? " …" : "")"
                        }
                    }))
        }
        return lines
    }

    /// The HTML `table` element.
    package var html: String {
        var html = "<table><tr>" + header.map { "<th>\(ReportText.html($0))</th>" }.joined() + "</tr>"
        for row in rows {
            html += "<tr>"
            for cell in row {
                switch cell {
                case .text(let text): html += "<td>\(ReportText.html(text))</td>"
                case .number(let count): html += "<td class=\"num\">\(count)</td>"
                case .rate(let rate): html += "<td>\(ReportText.html(ReportText.rate(rate)))</td>"
                case .identifier(let text): html += "<td><code>\(ReportText.html(text))</code></td>"
                case .modelText(let text, let clipped):
                    html += "<td><pre class=\"reply\">\(ReportText.html(text))\(clipped ? " …" : "")</pre></td>"
                }
            }
            html += "</tr>"
        }
        return html + "</table>"
    }
}

extension InvalidJSONReport {
    /// Replies by failure class, invalid JSON first.
    package var classTable: ReportTable {
        var table = ReportTable(header: ["Class", "Replies", "Note"])
        for failureClass in FailureClass.allCases where failureClass.isInvalidJSON {
            let note =
                failureClass == .truncated
                ? "\(truncatedAtMaxTokens) stopped at the token limit (stop_reason: max_tokens)" : ""
            let count: ReportTable.Cell =
                byClassRate?[failureClass.rawValue].map { .rate($0) }
                ?? .number(byClass[failureClass.rawValue] ?? 0)
            table.rows.append([.text(failureClass.rawValue), count, .text(note)])
        }
        table.rows.append([.text(FailureClass.notObject.rawValue), .rate(notObject), .text("valid JSON")])
        table.rows.append([.text(FailureClass.schema.rawValue), .rate(schema), .text("valid JSON")])
        table.rows.append([.text(FailureClass.unknownAction.rawValue), .rate(unknownAction), .text("valid decision")])
        return table
    }

    /// The first examples of each failing class (the model's text, at most 400 characters), or nil when there
    /// are none.
    package var examplesTable: ReportTable? {
        let classes = FailureClass.allCases.map(\.rawValue).filter { examples[$0] != nil }
        guard !classes.isEmpty else { return nil }
        var table = ReportTable(header: ["Class", "Incident", "Sample", "Stop", "Reply"])
        for failureClass in classes {
            for example in examples[failureClass]! {
                table.rows.append([
                    .text(failureClass), .identifier(example.incidentId), .number(example.sample),
                    .text(example.stopReason ?? "–"), .modelText(example.text, clipped: example.clipped),
                ])
            }
        }
        return table
    }

    /// The sentence above the examples table.
    package static let examplesCaption =
        "First examples (the model's text, escaped, at most 400 characters):"
}

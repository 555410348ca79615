import Foundation

/// The Pipeline section's sentences and tables, rendered by both ``MarkdownReport`` and ``HTMLReport`` (each
/// escapes them for its format).
extension PipelineReport {
    /// The opening paragraph.
    var summaryText: String {
        let scale =
            timeScale == 1
            ? ""
            : " (recorded \(timeScale == timeScale.rounded() ? String(Int(timeScale)) : String(timeScale))× fast; "
                + "every time here is production time)"
        var text =
            "\(messages) messages in receive order from \(start) to \(end), "
            + "\(String(format: "%.1f", productionHours)) hours of production time\(scale). Production plans "
            + "\(plan.joined(separator: ", ")): \(planned) messages, one model call each"
        if repliesReused > 0 {
            let why =
                samplesPerMessage.map { "pipeline.samples keeps \($0) per distinct message" }
                ?? "the cache held fewer samples than the message occurred"
            text +=
                "; \(repliesReused) of them took the reply of an earlier planning of the same message (\(why))"
        }
        text += "."
        if productionHours < 1 {
            text +=
                " The messages span under an hour of production time, so the per-day figures extrapolate far (a "
                + "corpus recorded with its timers divided by K declares time_scale: K in its corpus.yaml)."
        }
        if withoutIncident > 0 {
            text +=
                " \(withoutIncident) resolved messages had no open incident (the corpus starts mid-incident) and are "
                + "never planned."
        }
        return text
    }

    /// Messages by kind.
    var kindTable: ReportTable {
        ReportTable(
            header: ["Kind", "Messages", "Planned"],
            rows: kinds.map { [.identifier($0.kind), .number($0.messages), .number($0.planned)] })
    }

    /// Volume, over the replay and per day of production time, and the per-message measures.
    var measureTable: ReportTable {
        func daily(_ value: Int?) -> ReportTable.Cell { value.map(ReportTable.Cell.number) ?? .text("—") }
        var rows: [[ReportTable.Cell]] = [
            [.text("Messages"), .number(messages), .text(ReportText.number(messagesPerDay, digits: 1))],
            [.text("Model calls (planned messages)"), .number(volume.calls), daily(perDay?.calls)],
            [.text("Input tokens"), .number(volume.inputTokens), daily(perDay?.inputTokens)],
            [.text("Output tokens"), .number(volume.outputTokens), daily(perDay?.outputTokens)],
        ]
        if let cost = volume.costUSD {
            rows.append([
                .text("Cost at the scenario's pricing"), .text(String(format: "$%.4f", cost)),
                .text(perDay?.costUSD.map { String(format: "$%.4f", $0) } ?? "—"),
            ])
        }
        rows += [
            [.text("Invalid JSON / planned messages with a reply"), .text(ReportText.rate(invalidJSON)), .text("")],
            [.text("Executes on resolved messages"), .number(executesOnResolved), .text("")],
            [
                .text("Decisions naming another incident_id (of them executed)"),
                .text("\(decisionIdMismatches) (\(decisionIdMismatchExecutes))"), .text(""),
            ],
        ]
        return ReportTable(header: ["Measure", "Over the replay", "Per day of production time"], rows: rows)
    }

    /// The sentence before ``routeTable``.
    static let routeCaption =
        "Planned messages by kind and route: production's route, and in brackets the route after the run's "
        + "policies (the approval gate)."

    /// Planned messages by kind and route.
    var routeTable: ReportTable {
        ReportTable(
            header: ["Kind"] + Route.allCases.map(\.rawValue),
            rows: MessageKind.allCases.map(\.rawValue).filter { productionRoutesByKind[$0] != nil }.map { kind in
                [.identifier(kind)]
                    + Route.allCases.map { route in
                        let production = productionRoutesByKind[kind]?[route.rawValue] ?? 0
                        let final = routesByKind[kind]?[route.rawValue] ?? 0
                        return .text("\(production) (\(final))")
                    }
            })
    }

    /// How many incidents production executed for how many times.
    var distributionText: String {
        let counts = executesPerIncident.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }
            .map { "\($0.key) executes: \($0.value)" }
        return "Incidents by how many of their messages production routed to execute: "
            + counts.joined(separator: ", ") + "."
    }

    /// The incidents executed for most often, when any was executed more than once.
    var mostExecutedTable: ReportTable? {
        guard !mostExecuted.isEmpty else { return nil }
        return ReportTable(
            header: ["Incident executed for most often", "Executes", "Planned messages", "Executes on resolved"],
            rows: mostExecuted.map {
                [.identifier($0.incidentId), .number($0.executes), .number($0.planned), .number($0.onResolved)]
            })
    }
}

extension MarkdownReport {
    /// The Pipeline section.
    static func pipelineSection(_ pipeline: PipelineReport) -> [String] {
        // The sentences are triage-eval's own (numbers, times, kind names): written as they are.
        var lines = ["## Pipeline", "", pipeline.summaryText, ""]
        lines += pipeline.kindTable.markdownLines
        lines.append("")
        lines += pipeline.measureTable.markdownLines
        lines.append("")
        lines.append(PipelineReport.routeCaption)
        lines.append("")
        lines += pipeline.routeTable.markdownLines
        lines.append("")
        lines.append(pipeline.distributionText)
        if let table = pipeline.mostExecutedTable {
            lines.append("")
            lines += table.markdownLines
        }
        lines.append("")
        return lines
    }
}

extension HTMLReport {
    /// The Pipeline section.
    static func pipelineSection(_ pipeline: PipelineReport) -> String {
        var html = "<h2>Pipeline</h2><p>\(ReportText.html(pipeline.summaryText))</p>"
        html += pipeline.kindTable.html + pipeline.measureTable.html
        html += "<p>\(ReportText.html(PipelineReport.routeCaption))</p>" + pipeline.routeTable.html
        html += "<p>\(ReportText.html(pipeline.distributionText))</p>"
        if let table = pipeline.mostExecutedTable { html += table.html }
        return html
    }
}

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
            [
                .text("Executes on resolved messages / planned resolved messages"),
                .rate(Rate(executesOnResolved, of: kinds.first { $0.kind == "resolved" }?.planned ?? 0)), .text(""),
            ],
            [
                .text("Decisions naming another incident_id / planned messages"),
                .rate(Rate(decisionIdMismatches, of: planned)), .text(""),
            ],
            [.text("… of them routed to execute"), .number(decisionIdMismatchExecutes), .text("")],
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

extension PipelineReport.Dispatch {
    /// The opening sentence of the dispatch part.
    var summaryText: String {
        let submitted = byStatus[SensorDispatch.Status.submitted.rawValue] ?? 0
        // The folders' and files' names (the JSON report keeps the paths).
        let names = manifests.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        return "Dispatch through the Sensors of \(names) (Argo Events 1.9 semantics): "
            + "of \(executes) messages production routed to execute, \(submitted) become a Workflow "
            + "(\(workflowsSubmitted) Workflows submitted); \(executes - submitted) submit nothing; "
            + "\(actionsNeverDispatched) actions of executed decisions are never dispatched."
    }

    /// Executes by how their dispatch ended.
    var statusTable: ReportTable {
        ReportTable(
            header: ["Dispatch", "Executes"],
            rows: SensorDispatch.Status.allCases.filter { $0 != .notRouted }.map {
                [.identifier($0.rawValue), .number(byStatus[$0.rawValue] ?? 0)]
            })
    }

    /// Workflows by template, when any was submitted.
    var templateTable: ReportTable? {
        guard !byTemplate.isEmpty else { return nil }
        return ReportTable(
            header: ["WorkflowTemplate", "Workflows"],
            rows: byTemplate.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map {
                // A template's name can come from the model's reply (a parameter mapped to the template ref).
                [.modelText($0.key, clipped: false), .number($0.value)]
            })
    }

    /// The first failures of each kind.
    var exampleTable: ReportTable? {
        guard !examples.isEmpty else { return nil }
        var rows: [[ReportTable.Cell]] = []
        for status in SensorDispatch.Status.allCases {
            for example in examples[status.rawValue] ?? [] {
                rows.append([
                    .identifier(status.rawValue), .number(example.seq), .identifier(example.incidentId ?? "—"),
                    .identifier(example.kind), .identifier(example.parameter ?? "—"),
                    // Argo's messages quote values from the decision: model text.
                    .modelText(example.error, clipped: false),
                ])
            }
        }
        return ReportTable(header: ["Failure", "Message", "Incident", "Kind", "Parameter", "Error"], rows: rows)
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
        if let dispatch = pipeline.dispatch {
            lines += ["### Dispatch", "", dispatch.summaryText, ""]
            lines += dispatch.statusTable.markdownLines
            lines.append("")
            for table in [dispatch.templateTable, dispatch.exampleTable].compactMap({ $0 }) {
                lines += table.markdownLines
                lines.append("")
            }
        }
        if let state = pipeline.state { lines += pipelineStateSection(state) }
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
        if let dispatch = pipeline.dispatch {
            html += "<h3>Dispatch</h3><p>\(ReportText.html(dispatch.summaryText))</p>" + dispatch.statusTable.html
            for table in [dispatch.templateTable, dispatch.exampleTable].compactMap({ $0 }) { html += table.html }
        }
        if let state = pipeline.state { html += pipelineStateSection(state) }
        return html
    }
}

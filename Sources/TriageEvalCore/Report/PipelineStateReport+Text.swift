import Foundation

/// The Pipeline section's part on the state rules and the Workflows that ran, rendered by ``MarkdownReport`` and
/// ``HTMLReport`` (each escapes for its format).
extension PipelineStateReport {
    /// A duration in its largest whole units: `30m`, `4h5m`, `90s`, `1.5s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "—" }
        if seconds < 60 {
            return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
        }
        let whole = Int(seconds.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
        return (hours > 0 ? "\(hours)h" : "") + (minutes > 0 ? "\(minutes)m" : "") + (rest > 0 ? "\(rest)s" : "")
    }

    /// The rules, in one paragraph.
    var settingsText: String {
        let idempotency =
            switch settings.idempotency {
            case "gate":
                "idempotency: a Workflow that finds its key (\(settings.keyTemplate), set for "
                    + "\(Self.duration(settings.keyTTLSeconds)) at its start) exits without acting"
            case "step":
                "idempotency: the key (\(settings.keyTemplate), \(Self.duration(settings.keyTTLSeconds))) is "
                    + "checked in a step of its own, which stops nothing"
            default: "no idempotency check"
            }
        let deploys: String
        if settings.deploys == 0 {
            deploys = "no deploy timeline"
        } else {
            let file = settings.deploysFile.map { " (\(($0 as NSString).lastPathComponent))" } ?? ""
            let window =
                settings.deployAnchor == "start"
                ? "for \(Self.duration(settings.deployWindowSeconds)) from each deploy's start"
                : "while each deploy runs and for \(Self.duration(settings.deployWindowSeconds)) after it ends"
            deploys =
                "\(settings.deploys) deploys\(file), "
                + (settings.suppress ? "the Sensor refusing Workflows of their services \(window)" : "not suppressed")
        }
        let limit =
            switch (settings.limit, settings.namespaceLimit) {
            case (nil, nil): "no limit on Workflows running at once (the controller's default)"
            case (let limit?, nil): "at most \(limit) Workflows running at once"
            case (nil, let perNamespace?): "at most \(perNamespace) Workflows running at once per namespace"
            case (let limit?, let perNamespace?):
                "at most \(limit) Workflows running at once, \(perNamespace) per namespace"
            }
        let duration =
            settings.durationSeconds.map { "each running \(Self.duration($0))" }
            ?? "each running for its WorkflowTemplate's activeDeadlineSeconds (else its action's timeout)"
        let approver =
            switch settings.approver {
            case "none": "nobody answers"
            case "all": "every request is approved (a rubber stamp)"
            default: "a person approves exactly what the label expects and rejects the rest"
            }
        let source =
            settings.manifests
            ? "Workflows are what the scenario's Sensors submit"
            : "Without manifests, each action of a decision is one Workflow of its catalog template"
        return "The state rules, on production time: \(idempotency); \(deploys); \(limit), \(duration); approval "
            + "requests open for \(Self.duration(settings.approvalTTLSeconds)), where \(approver) after "
            + "\(Self.duration(settings.approverAfterSeconds)). \(source)."
    }

    /// Workflows by what became of them.
    var workflowTable: ReportTable {
        ReportTable(
            header: ["Workflows", "Count"],
            rows: [
                [.text("Dispatched (routed to execute, or approved)"), .number(workflows.dispatched)],
                [
                    .text("… for an execute / on an approval"),
                    .text("\(workflows.viaExecute) / \(workflows.viaApprove)"),
                ],
                [.text("Refused by the Sensor in a deploy window"), .number(workflows.suppressedByDeploy)],
                [.text("Exited at the idempotency check"), .number(workflows.suppressedByIdempotency)],
                [.text("Ran against the cluster"), .number(workflows.executed)],
            ])
    }

    /// Idempotency, parallelism and approvals, in sentences.
    var rulesText: [String] {
        var lines: [String] = []
        if settings.idempotency != "off" {
            lines.append(
                "Idempotency: \(idempotency.checked) Workflows checked their key; \(idempotency.alreadyInProgress) "
                    + "found it set (already in progress), \(idempotency.prevented) of them stopped"
                    + (idempotency.alreadyInProgress > idempotency.prevented
                        ? " and \(idempotency.alreadyInProgress - idempotency.prevented) ran anyway" : "")
                    + "; \(idempotency.reExecutionsAfterExpiry) ran again after an earlier key had expired; "
                    + "\(idempotency.wrongSuppressions) found a key another incident's Workflow had set (the model "
                    + "reused an incident id).")
        }
        var queue =
            "Parallelism: \(parallelism.waited) Workflows waited Pending, at most \(parallelism.peakQueued) at once"
        if let at = parallelism.peakQueuedAt { queue += " (at \(at))" }
        if let mean = parallelism.meanWaitSeconds, let max = parallelism.maxWaitSeconds {
            queue += "; wait \(Self.duration(mean)) on average, \(Self.duration(max)) at most"
        }
        lines.append(queue + "; at most \(parallelism.peakRunning) Workflows ran at once.")
        var approval =
            "Approvals: \(approvals.requests) requests"
        if let perHour = approvals.perHour {
            approval += " (\(String(format: "%.2f", perHour)) per hour of production time"
            if let start = approvals.peakHourStart {
                approval += ", at most \(approvals.peakPerHour) in the hour from \(start)"
            }
            approval += ")"
        }
        approval +=
            ": \(approvals.approved) approved, \(approvals.rejected) rejected, \(approvals.expired) expired; "
            + "\(approvals.workflowsSubmitted) Workflows submitted on approval."
        lines.append(approval)
        return lines
    }

    /// The Workflows that ran, judged.
    var outcomeTable: ReportTable {
        func perHour(_ value: Double?) -> String {
            value.map { " (\(String(format: "%.2f", $0)) per hour)" } ?? ""
        }
        var rows: [[ReportTable.Cell]] = [
            [.text("Workflows that ran"), .text("\(outcomes.runs)\(perHour(outcomes.runsPerHour))")],
            [.text("Correct: an action the label expects, no harm"), .text(ReportText.rate(outcomes.correct))],
            [
                .text("Harmful: any harm below"),
                .text(ReportText.rate(outcomes.harmful) + perHour(outcomes.harmfulPerHour)),
            ],
        ]
        for harm in Harm.allCases {
            rows.append([.identifier(harm.rawValue), .number(outcomes.byHarm[harm.rawValue] ?? 0)])
        }
        if outcomes.unlabelled > 0 {
            rows.append([.text("Runs of unlabelled incidents"), .number(outcomes.unlabelled)])
        }
        rows += [
            [
                .text("Incidents with a harmful run / incidents replayed"),
                .text(ReportText.rate(outcomes.incidentsWithHarm)),
            ],
            [.text("act incidents remediated correctly"), .text(ReportText.rate(outcomes.actIncidentsRemediated))],
            [
                .text("First message to first correct run: median, max"),
                .text(
                    outcomes.medianSecondsToCorrect.map { Self.duration($0) }.map {
                        "\($0), \(Self.duration(outcomes.maxSecondsToCorrect ?? 0))"
                    } ?? "—"),
            ],
        ]
        return ReportTable(header: ["What ran", "Value"], rows: rows)
    }

    /// Runs per action.
    var actionTable: ReportTable? {
        guard !outcomes.perAction.isEmpty else { return nil }
        return ReportTable(
            header: ["Action", "Runs", "Correct", "Harmful"] + Harm.allCases.map(\.rawValue),
            rows: outcomes.perAction.map { action in
                [.identifier(action.action), .number(action.runs), .number(action.correct), .number(action.harmful)]
                    + Harm.allCases.map { .number(action.byHarm[$0.rawValue] ?? 0) }
            })
    }

    /// The incidents with the most harmful runs.
    var worstTable: ReportTable? {
        guard !outcomes.worstIncidents.isEmpty else { return nil }
        return ReportTable(
            header: ["Incident with harmful runs", "Runs", "Harmful", "Harms"],
            rows: outcomes.worstIncidents.map {
                [
                    .identifier($0.incidentId), .number($0.runs), .number($0.harmful),
                    .text($0.harms.joined(separator: ", ")),
                ]
            })
    }

    /// The audit chain, in one sentence.
    var auditText: String {
        guard audit.rows > 0 else { return "Audit chain: no Workflow ran, so no row was written." }
        let head = audit.head.map { " whose last hash is \($0.prefix(16))…" } ?? ""
        return "Audit chain: \(audit.rows) remediation_audit rows\(head), "
            + (audit.verified
                ? "verified when this report was written (triage-eval audit verify RUN checks it again)."
                : "BROKEN: \(audit.firstBreak ?? "")")
    }
}

extension MarkdownReport {
    /// The Pipeline section's part on the state rules.
    static func pipelineStateSection(_ state: PipelineStateReport) -> [String] {
        var lines = ["### What the pipeline did", "", state.settingsText, ""]
        lines += state.workflowTable.markdownLines
        lines.append("")
        for sentence in state.rulesText { lines += [sentence, ""] }
        lines += state.outcomeTable.markdownLines
        lines.append("")
        for table in [state.actionTable, state.worstTable].compactMap({ $0 }) {
            lines += table.markdownLines
            lines.append("")
        }
        lines += [state.auditText, ""]
        return lines
    }
}

extension HTMLReport {
    /// The Pipeline section's part on the state rules.
    static func pipelineStateSection(_ state: PipelineStateReport) -> String {
        var html = "<h3>What the pipeline did</h3><p>\(ReportText.html(state.settingsText))</p>"
        if let timeline = state.timeline, !timeline.rows.isEmpty {
            html +=
                "<div class=\"timeline\">\(timelineChart(timeline))</div>"
                + "<p><small>\(ReportText.html(timelineCaption(timeline)))</small></p>"
        }
        html += state.workflowTable.html
        for sentence in state.rulesText { html += "<p>\(ReportText.html(sentence))</p>" }
        html += state.outcomeTable.html
        for table in [state.actionTable, state.worstTable].compactMap({ $0 }) { html += table.html }
        html += "<p>\(ReportText.html(state.auditText))</p>"
        return html
    }
}

import Foundation
import GRDB

/// The Pipeline section of a run's report: what production's triage service would have done with every message
/// of the corpus, in receive order (the scenario's `pipeline:` section; see ``PipelineReplay``).
///
/// Execute counts use production's own route (the seed's triage code: no approval gate), since that is what
/// production hands on to its Sensor; ``routesByKind`` gives both routes.
package struct PipelineReport: Codable, Sendable, Equatable {
    /// Messages of one kind.
    package struct KindCount: Codable, Sendable, Equatable {
        package var kind: String
        package var messages: Int
        /// Of them, messages production plans (the scenario's `pipeline.plan`).
        package var planned: Int
    }

    /// An incident and how often production would have executed for it.
    package struct IncidentExecutes: Codable, Sendable, Equatable {
        package var incidentId: String
        package var executes: Int
        /// Its planned messages.
        package var planned: Int
        /// Executes on its resolved messages.
        package var onResolved: Int
    }

    /// Tokens and cost: observed over the replay, and per day of production time.
    package struct Volume: Codable, Sendable, Equatable {
        /// Model calls production makes: one per planned message.
        package var calls: Int
        package var inputTokens: Int
        package var outputTokens: Int
        /// USD at the scenario's pricing (nil without one).
        package var costUSD: Double?
    }

    /// The corpus's time scale: production time is the first message's plus each recorded offset × this.
    package var timeScale: Double
    /// The message kinds production plans.
    package var plan: [String]
    /// First and last message, in production time (ISO 8601 UTC).
    package var start: String
    package var end: String
    /// The production time the messages span, in hours.
    package var productionHours: Double
    /// All messages, and how many production plans.
    package var messages: Int
    package var planned: Int
    /// Messages by kind, in the order first, repeat, update, resolved.
    package var kinds: [KindCount]
    /// Resolved messages no open incident took (the corpus starts mid-incident): never planned.
    package var withoutIncident: Int
    /// Planned messages whose reply was an earlier sample of the same user message (the cache held fewer
    /// samples than the message occurred, or the scenario's `pipeline.samples` capped them).
    package var repliesReused: Int
    /// The scenario's `pipeline.samples`: replies per distinct user message (nil: one per planning).
    package var samplesPerMessage: Int?
    /// Calls, tokens and cost over the replay.
    package var volume: Volume
    /// The same, per day of production time (nil when the messages span no time).
    package var perDay: Volume?
    /// Messages per day of production time, and planned ones.
    package var messagesPerDay: Double?
    package var plannedPerDay: Double?
    /// Invalid JSON (empty, wrapped, truncated, syntax) over planned messages with a reply, with its Wilson
    /// interval (messages of one incident, and a reused reply, are not independent: read it as indicative).
    package var invalidJSON: Rate
    /// Planned messages by kind, then by production's route.
    package var productionRoutesByKind: [String: [String: Int]]
    /// Planned messages by kind, then by the route after the run's policies (the approval gate).
    package var routesByKind: [String: [String: Int]]
    /// Incidents by how many of their messages production routed to execute (`"0"`, `"1"`, …).
    package var executesPerIncident: [String: Int]
    /// The incidents executed for most often (more than once), at most ten.
    package var mostExecuted: [IncidentExecutes]
    /// Executes on resolved messages: remediating an alert that has already resolved.
    package var executesOnResolved: Int
    /// ok decisions whose `incident_id` is not the event's (the Sensor and the idempotency key downstream use
    /// the model's), and how many of them production executes.
    package var decisionIdMismatches: Int
    package var decisionIdMismatchExecutes: Int

    /// What the scenario's Sensors made of the decisions production routed to execute (`pipeline.manifests`).
    package struct Dispatch: Codable, Sendable, Equatable {
        /// One message whose dispatch failed, as an example.
        package struct Example: Codable, Sendable, Equatable {
            package var seq: Int
            package var incidentId: String?
            package var kind: String
            /// What failed, in Argo's words where it has them.
            package var error: String
            /// The parameter that failed (a trigger parameter's `dest`, a template parameter's name).
            package var parameter: String?
        }

        /// The manifests, as the scenario names them.
        package var manifests: [String]
        /// Planned messages production routed to execute.
        package var executes: Int
        /// Workflows the Sensors would submit for them.
        package var workflowsSubmitted: Int
        /// Executes by how their dispatch ended (`submitted`, `no_dependency`, `trigger_error`,
        /// `template_not_found`, `missing_parameter`).
        package var byStatus: [String: Int]
        /// Workflows submitted by WorkflowTemplate.
        package var byTemplate: [String: Int]
        /// Actions of executed decisions that no submitted Workflow reads (`actions[1:]` in the seed, all of them
        /// when nothing is submitted).
        package var actionsNeverDispatched: Int
        /// The first examples of each failure, at most three per kind.
        package var examples: [String: [Example]]
    }

    /// The dispatch through the scenario's Sensors, when it has `pipeline.manifests`.
    package var dispatch: Dispatch?
    /// What the state rules did and what ran against the cluster, judged (nil for a replay made before them).
    package var state: PipelineStateReport?

    private static let invalidClassBytes = FailureClass.allCases.filter(\.isInvalidJSON).map { Array($0.rawValue.utf8) }
    private static let kindBytes = MessageKind.allCases.map { Array($0.rawValue.utf8) }
    private static let routeBytes = [Route.execute, .approve, .escalate].map { Array($0.rawValue.utf8) }

    /// A message's kind (its index in `MessageKind.allCases`) from column `index`; an unknown text counts as an
    /// update.
    private static func kind(_ rows: RawStatement, _ index: Int32) -> Int {
        kindBytes.firstIndex { rows.textEquals(index, $0) }
            ?? MessageKind.allCases.firstIndex(of: .update)!
    }

    /// One incident's messages as the section's scan counts them.
    private struct IncidentTally {
        var id: String
        var firstMessage: Double
        var planned = 0
        var executes = 0
        var onResolved = 0
    }

    /// The routes of one kind's planned messages.
    private struct RouteCounts {
        /// execute, approve, escalate.
        var known = [0, 0, 0]
        /// Any other text, and "" for none.
        var other: [String: Int] = [:]

        /// Counts the route in column `index`; returns whether it is execute.
        @discardableResult
        mutating func add(_ rows: RawStatement, _ index: Int32) -> Bool {
            if let route = PipelineReport.routeBytes.firstIndex(where: { rows.textEquals(index, $0) }) {
                known[route] += 1
                return route == 0
            }
            other[rows.text(index) ?? "", default: 0] += 1
            return false
        }

        /// Adds the counts to a table of routes by kind (a kind or a route without messages gets no entry).
        func merge(into table: inout [String: [String: Int]], kind: MessageKind) {
            for (route, count) in zip([Route.execute, .approve, .escalate], known) where count > 0 {
                table[kind.rawValue, default: [:]][route.rawValue] = count
            }
            for (route, count) in other { table[kind.rawValue, default: [:]][route] = count }
        }
    }

    /// The section of a run, or nil when the run has no pipeline replay.
    ///
    /// With `stateReader` (another connection to the store), the state rules' part tallies its tables there, on
    /// another thread, while this one scans the messages: each is a scan of a million rows for a large replay.
    static func build(
        _ db: Database, runId: String, config: ScenarioFile, stateReader: DatabaseQueue? = nil
    ) throws -> PipelineReport? {
        guard config.pipeline != nil, let timeScale = try PipelineMessageRecord.timeScale(db, runId: runId) else {
            return nil
        }
        let stateTallies = stateReader.map { reader in
            BackgroundWork(label: "triage-eval.report-state") { () -> PipelineStateReport.Tallies? in
                try reader.read { db in
                    guard let (first, last) = try PipelineMessageRecord.span(db, runId: runId) else { return nil }
                    return try PipelineStateReport.tally(db, runId: runId, start: first, hours: (last - first) / 3_600)
                }
            }
        }
        let rows = try PipelineMessageRecord.reportRows(db, runId: runId)
        var messages = 0
        var planned = 0
        let kindCases = MessageKind.allCases
        var kindMessages = [Int](repeating: 0, count: kindCases.count)
        var kindPlanned = [Int](repeating: 0, count: kindCases.count)
        var withoutIncident = 0
        var reused = 0
        var inputTokens = 0
        var outputTokens = 0
        var judged = 0
        var invalid = 0
        // Routes by kind: the three routes counted in place, anything else (none, an unknown text) by name.
        var productionRouteCounts = [RouteCounts](repeating: RouteCounts(), count: kindCases.count)
        var routeCounts = [RouteCounts](repeating: RouteCounts(), count: kindCases.count)
        // Each incident's tally, found by one lookup per message (a million messages, 100,000 incidents): by the
        // number of its id, read in place, else (an id of another form) by its text.
        var packedIndex: [UInt64: Int] = [:]
        var incidentIndex: [String: Int] = [:]
        var incidents: [IncidentTally] = []
        var executesOnResolved = 0
        var mismatches = 0
        var mismatchExecutes = 0
        var first: Double?
        var last: Double?
        var dispatched = false
        var dispatchExecutes = 0
        var workflowsSubmitted = 0
        var byStatus: [String: Int] = [:]
        var byTemplate: [String: Int] = [:]
        var neverDispatched = 0
        var examples: [String: [Dispatch.Example]] = [:]
        while try rows.step() {
            let time = rows.double(0) ?? 0
            first = first ?? time
            last = time
            messages += 1
            let kind = Self.kind(rows, 2)
            let isPlanned = rows.int(3) != 0
            kindMessages[kind] += 1
            var incident: Int?
            let packed = rows.withBytes(1, PackedIncidentId.value)
            if let packed, let known = packedIndex[packed] {
                incident = known
            } else if let incidentId = rows.text(1) {
                if packed == nil, let known = incidentIndex[incidentId] {
                    incident = known
                } else {
                    incident = incidents.count
                    if let packed {
                        packedIndex[packed] = incidents.count
                    } else {
                        incidentIndex[incidentId] = incidents.count
                    }
                    incidents.append(IncidentTally(id: incidentId, firstMessage: time))
                }
            } else {
                withoutIncident += 1
            }
            guard isPlanned else { continue }
            if let incident { incidents[incident].planned += 1 }
            planned += 1
            kindPlanned[kind] += 1
            if rows.int(4) != 0 { reused += 1 }
            inputTokens += rows.int(9)
            outputTokens += rows.int(10)
            if !rows.textEquals(5, "transport") {
                judged += 1
                if Self.invalidClassBytes.contains(where: { rows.textEquals(5, $0) }) { invalid += 1 }
            }
            let executes = productionRouteCounts[kind].add(rows, 6)
            routeCounts[kind].add(rows, 7)
            if executes, let incident {
                incidents[incident].executes += 1
                if kindCases[kind] == .resolved {
                    incidents[incident].onResolved += 1
                    executesOnResolved += 1
                }
            }
            if let status = rows.text(13) {
                dispatched = true
                if status != SensorDispatch.Status.notRouted.rawValue {
                    dispatchExecutes += 1
                    byStatus[status, default: 0] += 1
                    let workflows = rows.int(16)
                    workflowsSubmitted += workflows
                    if workflows > 0, let template = rows.text(18) { byTemplate[template, default: 0] += workflows }
                    neverDispatched += rows.int(17)
                    if status != SensorDispatch.Status.submitted.rawValue, examples[status, default: []].count < 3 {
                        examples[status, default: []].append(
                            Dispatch.Example(
                                seq: rows.int(12), incidentId: incident.map { incidents[$0].id },
                                kind: kindCases[kind].rawValue, error: rows.text(14) ?? "",
                                parameter: rows.text(15)))
                    }
                }
            }
            // The model's incident id, when it differs from the event's (or the message has no incident).
            if rows.textEquals(11, "ok"), !rows.isNull(8), !rows.textEquals(8, column: 1) {
                mismatches += 1
                if executes { mismatchExecutes += 1 }
            }
        }
        var kinds: [MessageKind: (messages: Int, planned: Int)] = [:]
        var productionRoutes: [String: [String: Int]] = [:]
        var routes: [String: [String: Int]] = [:]
        for (index, kind) in kindCases.enumerated() {
            if kindMessages[index] > 0 { kinds[kind] = (kindMessages[index], kindPlanned[index]) }
            productionRouteCounts[index].merge(into: &productionRoutes, kind: kind)
            routeCounts[index].merge(into: &routes, kind: kind)
        }
        let firstMessage = PipelineStateReport.FirstMessages(
            uniqueKeysWithValues: incidents.map { ($0.id, $0.firstMessage) })
        guard let first, let last else { return nil }
        let hours = (last - first) / 3_600
        let state: PipelineStateReport?
        if let stateTallies {
            state = try stateTallies.value().map { tallies in
                tallies.report(
                    hours: hours, incidents: firstMessage,
                    timeline: try PipelineTimeline.build(
                        db, runId: runId, start: first, end: first + hours * 3600, firstMessage: firstMessage,
                        expectations: tallies.expectations, busy: tallies.busy,
                        window: tallies.settings.deployWindowSeconds))
            }
        } else {
            state = try PipelineStateReport.build(db, runId: runId, start: first, hours: hours, incidents: firstMessage)
        }
        let pricing = config.model?.pricing
        let cost: Double? =
            if let input = pricing?.input, let output = pricing?.output {
                (Double(inputTokens) * input + Double(outputTokens) * output) / 1e6
            } else {
                nil
            }
        let volume = Volume(calls: planned, inputTokens: inputTokens, outputTokens: outputTokens, costUSD: cost)
        let days = (last - first) / 86_400
        let perDay =
            days > 0
            ? Volume(
                calls: Int((Double(planned) / days).rounded()),
                inputTokens: Int((Double(inputTokens) / days).rounded()),
                outputTokens: Int((Double(outputTokens) / days).rounded()), costUSD: cost.map { $0 / days }) : nil
        var distribution: [String: Int] = [:]
        for incident in incidents { distribution[String(incident.executes), default: 0] += 1 }
        let most = incidents.filter { $0.executes > 1 }
            .map {
                IncidentExecutes(
                    incidentId: $0.id, executes: $0.executes, planned: $0.planned, onResolved: $0.onResolved)
            }
            .sorted { ($1.executes, $0.incidentId) < ($0.executes, $1.incidentId) }
        return PipelineReport(
            timeScale: timeScale,
            plan: MessageKind.allCases.map(\.rawValue).filter { config.pipeline?.plan?.contains($0) ?? true },
            start: UTCTimestamp.string(Date(timeIntervalSince1970: first)),
            end: UTCTimestamp.string(Date(timeIntervalSince1970: last)),
            productionHours: hours,
            messages: messages,
            planned: planned,
            kinds: MessageKind.allCases.map {
                KindCount(kind: $0.rawValue, messages: kinds[$0]?.messages ?? 0, planned: kinds[$0]?.planned ?? 0)
            },
            withoutIncident: withoutIncident,
            repliesReused: reused,
            samplesPerMessage: config.pipeline?.samples,
            volume: volume,
            perDay: perDay,
            messagesPerDay: days > 0 ? Double(messages) / days : nil,
            plannedPerDay: days > 0 ? Double(planned) / days : nil,
            invalidJSON: Rate(invalid, of: judged),
            productionRoutesByKind: productionRoutes,
            routesByKind: routes,
            executesPerIncident: distribution,
            mostExecuted: Array(most.prefix(10)),
            executesOnResolved: executesOnResolved,
            decisionIdMismatches: mismatches,
            decisionIdMismatchExecutes: mismatchExecutes,
            dispatch: dispatched
                ? Dispatch(
                    manifests: config.pipeline?.manifests ?? [], executes: dispatchExecutes,
                    workflowsSubmitted: workflowsSubmitted, byStatus: byStatus, byTemplate: byTemplate,
                    actionsNeverDispatched: neverDispatched, examples: examples) : nil,
            state: state)
    }
}

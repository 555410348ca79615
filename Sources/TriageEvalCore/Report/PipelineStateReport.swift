import Foundation
import GRDB

/// What the pipeline's state rules did over the replay, and what the Workflows that ran did to the cluster,
/// judged against the labels (report.json: `pipeline.state`). Read from the tables the replay wrote
/// (``PipelineSimulation``); nothing here is decided again.
package struct PipelineStateReport: Codable, Sendable, Equatable {
    /// The rules the replay ran with.
    package struct Settings: Codable, Sendable, Equatable {
        /// `gate`, `step` or `off`.
        package var idempotency: String
        package var keyTemplate: String
        package var keyTTLSeconds: Double
        /// The deploy timeline's file and its deploys (nil: none).
        package var deploysFile: String?
        package var deploys: Int
        package var deployWindowSeconds: Double
        /// `start` or `end`.
        package var deployAnchor: String
        package var suppress: Bool
        /// nil: no limit.
        package var limit: Int?
        package var namespaceLimit: Int?
        /// Seconds every Workflow runs, nil: each its deadline.
        package var durationSeconds: Double?
        /// `none`, `label` or `all`.
        package var approver: String
        package var approvalTTLSeconds: Double
        package var approverAfterSeconds: Double
        /// Whether Workflows come from the scenario's Sensors (else one per action).
        package var manifests: Bool
    }

    /// Workflows by what became of them.
    package struct Workflows: Codable, Sendable, Equatable {
        /// Every Workflow a decision submitted (or would have, but for deploy suppression).
        package var dispatched: Int
        /// Of them, submitted for a decision routed to execute, and on an approval.
        package var viaExecute: Int
        package var viaApprove: Int
        /// Refused by the Sensor in a deploy window.
        package var suppressedByDeploy: Int
        /// Exited at the idempotency check ("already in progress").
        package var suppressedByIdempotency: Int
        /// Ran their action against the cluster.
        package var executed: Int
    }

    package struct Idempotency: Codable, Sendable, Equatable {
        /// Workflows that ran the check.
        package var checked: Int
        /// Found their key set ("already in progress"), and of them were stopped (gate) — the rest ran anyway.
        package var alreadyInProgress: Int
        package var prevented: Int
        /// Set their key again after an earlier one expired: the action ran again after the cooldown.
        package var reExecutionsAfterExpiry: Int
        /// Found a key a different incident's Workflow had set (the model reused an incident id).
        package var wrongSuppressions: Int
    }

    package struct Parallelism: Codable, Sendable, Equatable {
        /// Workflows that waited Pending.
        package var waited: Int
        /// The most Workflows Pending at once, and when (RFC 3339).
        package var peakQueued: Int
        package var peakQueuedAt: String?
        /// Wait of the Workflows that started, in seconds (nil when none did).
        package var meanWaitSeconds: Double?
        package var maxWaitSeconds: Double?
        /// The most Workflows running at once.
        package var peakRunning: Int
    }

    package struct Approvals: Codable, Sendable, Equatable {
        package var requests: Int
        package var approved: Int
        package var rejected: Int
        package var expired: Int
        /// Requests per hour of production time: the mean, and the busiest clock hour (from the first message).
        package var perHour: Double?
        package var peakPerHour: Int
        package var peakHourStart: String?
        /// Workflows submitted on approval.
        package var workflowsSubmitted: Int
    }

    /// One action's runs.
    package struct ActionOutcome: Codable, Sendable, Equatable {
        package var action: String
        package var runs: Int
        package var correct: Int
        package var harmful: Int
        package var byHarm: [String: Int]
    }

    /// An incident with a harmful run.
    package struct IncidentHarm: Codable, Sendable, Equatable {
        package var incidentId: String
        package var runs: Int
        package var harmful: Int
        package var harms: [String]
    }

    package struct Outcomes: Codable, Sendable, Equatable {
        /// Workflows that ran; correct ones and harmful ones (any harm) among them, with Wilson intervals.
        package var runs: Int
        package var correct: Rate
        package var harmful: Rate
        /// Runs by harm (a run can have several).
        package var byHarm: [String: Int]
        /// Runs of incidents without a label (neither correct nor expected-or-not).
        package var unlabelled: Int
        /// Incidents replayed; with a run; with a harmful run (of all replayed).
        package var incidents: Int
        package var incidentsWithRuns: Int
        package var incidentsWithHarm: Rate
        /// `act` incidents, and those with a correct run (act recall of the pipeline).
        package var actIncidentsRemediated: Rate
        /// From an incident's first message to its first correct run, over the incidents with one (seconds).
        package var medianSecondsToCorrect: Double?
        package var maxSecondsToCorrect: Double?
        /// Runs and harmful runs per hour of production time.
        package var runsPerHour: Double?
        package var harmfulPerHour: Double?
        package var perAction: [ActionOutcome]
        /// The incidents with the most harmful runs, at most ten.
        package var worstIncidents: [IncidentHarm]
    }

    package struct Audit: Codable, Sendable, Equatable {
        package var rows: Int
        /// The last row's this_hash (hex), nil for an empty chain.
        package var head: String?
        /// Whether the chain verified when the report was written, and where it broke.
        package var verified: Bool
        package var firstBreak: String?
    }

    package var settings: Settings
    package var workflows: Workflows
    package var idempotency: Idempotency
    package var parallelism: Parallelism
    package var approvals: Approvals
    package var outcomes: Outcomes
    package var audit: Audit
    /// The timeline report.html draws (not in report.json).
    package var timeline: PipelineTimeline?

    enum CodingKeys: String, CodingKey {
        case settings, workflows, idempotency, parallelism, approvals, outcomes, audit
    }

    /// The first message of each incident replayed (production time), from the Pipeline section's scan.
    typealias FirstMessages = [String: Double]

    /// What the part reads of the store without the Pipeline section's scan: the tallies of the Workflows, the
    /// approvals and the audit chain, made while that scan runs on another connection.
    struct Tallies: Sendable {
        var settings: Settings
        var workflows: Workflows
        var idempotency: Idempotency
        var parallelism: Parallelism
        var approvals: Approvals
        var audit: Audit
        var byHarm: [String: Int]
        var correct: Int
        var harmful: Int
        var unlabelled: Int
        var perAction: [String: ActionOutcome]
        var perIncident: [String: IncidentHarm]
        /// Each incident's first correct run (production time).
        var firstCorrect: [String: Double]
        /// Each labelled incident's expectation.
        var expectations: [String: String]
        /// The incidents where something happened: a Workflow dispatched or an approval requested (the timeline
        /// draws them first).
        var busy: Set<String>
    }

    /// The part of a run, or nil when its replay ran no state rules (a run before they existed).
    /// - Parameters:
    ///   - start: the replay's first message (production time).
    ///   - hours: the production hours from its first message to its last.
    ///   - incidents: the first message of each incident replayed.
    static func build(
        _ db: Database, runId: String, start: Double, hours: Double, incidents: FirstMessages
    ) throws -> PipelineStateReport? {
        guard let tallies = try tally(db, runId: runId, start: start, hours: hours) else { return nil }
        let timeline = try PipelineTimeline.build(
            db, runId: runId, start: start, end: start + hours * 3600, firstMessage: incidents,
            expectations: tallies.expectations, busy: tallies.busy, window: tallies.settings.deployWindowSeconds)
        return tallies.report(hours: hours, incidents: incidents, timeline: timeline)
    }

    /// The tallies of a run's state rules, or nil when its replay ran none (see ``build(_:runId:start:hours:incidents:)``).
    static func tally(_ db: Database, runId: String, start: Double, hours: Double) throws -> Tallies? {
        guard
            let settingsJSON = try String.fetchOne(
                db, sql: "SELECT stateRules FROM pipelineRun WHERE runId = ?", arguments: [runId]),
            let settings = try? JSONDecoder().decode(Settings.self, from: Data(settingsJSON.utf8))
        else { return nil }
        var workflows = Workflows(
            dispatched: 0, viaExecute: 0, viaApprove: 0, suppressedByDeploy: 0, suppressedByIdempotency: 0,
            executed: 0)
        var idempotency = Idempotency(
            checked: 0, alreadyInProgress: 0, prevented: 0, reExecutionsAfterExpiry: 0, wrongSuppressions: 0)
        var waits: [Double] = []
        var pendingEdges: [(time: Double, delta: Int)] = []
        var runningEdges: [(time: Double, delta: Int)] = []
        var byHarm: [String: Int] = [:]
        var correct = 0
        var harmful = 0
        var unlabelled = 0
        var perAction: [String: ActionOutcome] = [:]
        var perIncident: [String: IncidentHarm] = [:]
        var firstCorrect: [String: Double] = [:]
        var busy: Set<String> = []
        let expectations = try Store.labelExpectations(ofRun: runId, in: db)
        // A raw statement: a large replay runs hundreds of thousands of Workflows.
        let rows = try RawStatement(
            db,
            sql: """
                SELECT via, action, incidentId, dispatchedAt, suppressedBy, startedAt, finishedAt, keyState,
                    keyHolder, executed, harm, correct
                FROM pipelineWorkflow WHERE runId = ? ORDER BY seq, ordinal
                """)
        rows.bind(1, runId)
        var harmCache: [String: [String]] = [:]
        while try rows.step() {
            workflows.dispatched += 1
            if rows.textEquals(0, "approve") { workflows.viaApprove += 1 } else { workflows.viaExecute += 1 }
            let incidentId = rows.text(2) ?? ""
            busy.insert(incidentId)
            let dispatchedAt = rows.double(3) ?? 0
            let suppressedBy = rows.text(4)
            if suppressedBy == PipelineSimulation.Suppression.deploy.rawValue { workflows.suppressedByDeploy += 1 }
            if suppressedBy == PipelineSimulation.Suppression.idempotency.rawValue {
                workflows.suppressedByIdempotency += 1
            }
            let startedAt = rows.double(5)
            if let startedAt {
                waits.append(startedAt - dispatchedAt)
                if startedAt > dispatchedAt {
                    pendingEdges += [(dispatchedAt, 1), (startedAt, -1)]
                }
                if let finishedAt = rows.double(6), finishedAt > startedAt {
                    runningEdges += [(startedAt, 1), (finishedAt, -1)]
                }
            }
            if let keyState = rows.text(7) {
                idempotency.checked += 1
                switch PipelineSimulation.KeyState(rawValue: keyState) {
                case .held?:
                    idempotency.alreadyInProgress += 1
                    if suppressedBy != nil { idempotency.prevented += 1 }
                    if rows.text(8) != incidentId { idempotency.wrongSuppressions += 1 }
                case .setAfterExpiry?: idempotency.reExecutionsAfterExpiry += 1
                default: break
                }
            }
            guard rows.int(9) != 0 else { continue }
            workflows.executed += 1
            let action = rows.text(1) ?? ""
            let harmText = rows.text(10) ?? "[]"
            // The few distinct harm lists, parsed once each.
            let harms =
                harmCache[harmText]
                ?? {
                    let parsed = (try? JSONParser.parse(harmText).arrayElements)?.compactMap(\.stringValue) ?? []
                    harmCache[harmText] = parsed
                    return parsed
                }()
            let isCorrect = rows.int(11) == 1
            var outcome =
                perAction[action] ?? ActionOutcome(action: action, runs: 0, correct: 0, harmful: 0, byHarm: [:])
            outcome.runs += 1
            if expectations[incidentId] == nil { unlabelled += 1 }
            var incident =
                perIncident[incidentId] ?? IncidentHarm(incidentId: incidentId, runs: 0, harmful: 0, harms: [])
            incident.runs += 1
            if isCorrect {
                correct += 1
                outcome.correct += 1
                if let startedAt {
                    firstCorrect[incidentId] = min(firstCorrect[incidentId] ?? .infinity, startedAt)
                }
            }
            if !harms.isEmpty {
                harmful += 1
                outcome.harmful += 1
                incident.harmful += 1
                for harm in harms {
                    byHarm[harm, default: 0] += 1
                    outcome.byHarm[harm, default: 0] += 1
                    if !incident.harms.contains(harm) { incident.harms.append(harm) }
                }
            }
            perAction[action] = outcome
            perIncident[incidentId] = incident
        }

        func peak(_ edges: [(time: Double, delta: Int)]) -> (Int, Double?) {
            // At one instant an end comes before a start (a slot freed at t is taken at t).
            var level = 0
            var best = 0
            var at: Double?
            for edge in edges.sorted(by: { ($0.time, $0.delta) < ($1.time, $1.delta) }) {
                level += edge.delta
                if level > best {
                    best = level
                    at = edge.time
                }
            }
            return (best, at)
        }
        let (peakQueued, peakQueuedAt) = peak(pendingEdges)
        let (peakRunning, _) = peak(runningEdges)
        let parallelism = Parallelism(
            waited: waits.filter { $0 > 0 }.count, peakQueued: peakQueued,
            peakQueuedAt: peakQueuedAt.map { UTCTimestamp.milliseconds(Date(timeIntervalSince1970: $0)) },
            meanWaitSeconds: waits.isEmpty ? nil : waits.reduce(0, +) / Double(waits.count),
            maxWaitSeconds: waits.max(), peakRunning: peakRunning)

        let approvals = try approvalTallies(db, runId: runId, start: start, hours: hours) { busy.insert($0) }
        var chain = AuditChain.Verifier()
        try PipelineStateRecord.forEachAuditLink(db, runId: runId) { chain.add($0) }
        return Tallies(
            settings: settings, workflows: workflows, idempotency: idempotency, parallelism: parallelism,
            approvals: approvals,
            audit: Audit(
                rows: chain.count, head: chain.head.map(Digest.hex), verified: chain.firstBreak == nil,
                firstBreak: chain.firstBreak?.description),
            byHarm: byHarm, correct: correct, harmful: harmful, unlabelled: unlabelled, perAction: perAction,
            perIncident: perIncident, firstCorrect: firstCorrect, expectations: expectations, busy: busy)
    }
}

extension PipelineStateReport.Tallies {
    /// The part, from the tallies and the Pipeline section's scan (`hours`, `incidents`, as
    /// ``PipelineStateReport/build(_:runId:start:hours:incidents:)`` takes them) and the timeline drawn from both.
    func report(
        hours: Double, incidents: PipelineStateReport.FirstMessages, timeline: PipelineTimeline
    ) -> PipelineStateReport {
        let actIncidents = expectations.filter { $0.value == ExpectedOutcome.act.rawValue && incidents[$0.key] != nil }
            .map(\.key)
        let toCorrect = firstCorrect.compactMap { id, time in incidents[id].map { time - $0 } }.sorted()
        let harmedIncidents = perIncident.values.filter { $0.harmful > 0 }
        let outcomes = PipelineStateReport.Outcomes(
            runs: workflows.executed, correct: Rate(correct, of: workflows.executed),
            harmful: Rate(harmful, of: workflows.executed), byHarm: byHarm, unlabelled: unlabelled,
            incidents: incidents.count, incidentsWithRuns: perIncident.count,
            incidentsWithHarm: Rate(harmedIncidents.count, of: incidents.count),
            actIncidentsRemediated: Rate(actIncidents.filter { firstCorrect[$0] != nil }.count, of: actIncidents.count),
            medianSecondsToCorrect: toCorrect.isEmpty ? nil : Statistics.quantile(sorted: toCorrect, 0.5),
            maxSecondsToCorrect: toCorrect.last,
            runsPerHour: hours > 0 ? Double(workflows.executed) / hours : nil,
            harmfulPerHour: hours > 0 ? Double(harmful) / hours : nil,
            perAction: perAction.values.sorted { ($1.runs, $0.action) < ($0.runs, $1.action) },
            worstIncidents: Array(
                harmedIncidents.map { incident in
                    var incident = incident
                    incident.harms.sort { (Harm(rawValue: $0) ?? .forbidden) < (Harm(rawValue: $1) ?? .forbidden) }
                    return incident
                }.sorted { ($1.harmful, $1.runs, $0.incidentId) < ($0.harmful, $0.runs, $1.incidentId) }
                    .prefix(10)))
        return PipelineStateReport(
            settings: settings, workflows: workflows, idempotency: idempotency, parallelism: parallelism,
            approvals: approvals, outcomes: outcomes, audit: audit, timeline: timeline)
    }
}

extension PipelineStateReport {
    /// The approval requests' tallies; `requested` is told each request's incident.
    private static func approvalTallies(
        _ db: Database, runId: String, start: Double, hours: Double, requested: (String) -> Void
    ) throws -> Approvals {
        var approvals = Approvals(
            requests: 0, approved: 0, rejected: 0, expired: 0, perHour: nil, peakPerHour: 0, peakHourStart: nil,
            workflowsSubmitted: 0)
        var perHour: [Int: Int] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT postedAt, answer, workflows, incidentId FROM pipelineApproval WHERE runId = ? ORDER BY seq",
            arguments: [runId])
        while let row = try rows.next() {
            approvals.requests += 1
            requested(row[3])
            let postedAt: Double = row[0]
            perHour[Int(((postedAt - start) / 3600).rounded(.down)), default: 0] += 1
            switch ApprovalDesk.Answer(rawValue: row[1]) {
            case .approved?: approvals.approved += 1
            case .rejected?: approvals.rejected += 1
            case .expired?: approvals.expired += 1
            case nil: break
            }
            approvals.workflowsSubmitted += row[2] as Int
        }
        // The busiest hour, the earliest of equals.
        if let busiest = perHour.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) {
            approvals.peakPerHour = busiest.value
            approvals.peakHourStart = UTCTimestamp.string(
                Date(timeIntervalSince1970: start + Double(busiest.key) * 3600))
        }
        approvals.perHour = hours > 0 ? Double(approvals.requests) / hours : nil
        return approvals
    }
}

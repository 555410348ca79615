import Foundation
import GRDB

/// The Pipeline section's timeline in `report.html`: one row per incident, on production time — its deliveries,
/// its decisions by route, its approval requests, its Workflows (waiting, run, refused, exited at the check) and
/// the deploy windows of its service. Read from the run's rows; not part of report.json.
///
/// At most ``cap`` incidents are drawn: those where something happened (a Workflow or a request) first, then the
/// others by first message; the rest are counted.
package struct PipelineTimeline: Sendable, Equatable {
    package struct Row: Sendable, Equatable {
        package var incidentId: String
        /// The label's expectation, when labelled.
        package var expect: String?
        /// Its messages: time and kind.
        package var deliveries: [(time: Double, kind: MessageKind)]
        /// Its planned messages' routes (after the scenario's policies).
        package var decisions: [(time: Double, route: Route)]
        package var approvals: [(posted: Double, answered: Double, answer: ApprovalDesk.Answer)]
        package var workflows: [Workflow]
        /// Windows of deploys of its service (``DeploySuppression/activityWindow(_:)``).
        package var deploys: [(from: Double, until: Double)]

        package static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.incidentId == rhs.incidentId && lhs.expect == rhs.expect
                && lhs.deliveries.elementsEqual(rhs.deliveries, by: { $0 == $1 })
                && lhs.decisions.elementsEqual(rhs.decisions, by: { $0 == $1 })
                && lhs.approvals.elementsEqual(rhs.approvals, by: { $0 == $1 }) && lhs.workflows == rhs.workflows
                && lhs.deploys.elementsEqual(rhs.deploys, by: { $0 == $1 })
        }
    }

    package struct Workflow: Sendable, Equatable {
        package var action: String
        package var dispatchedAt: Double
        package var startedAt: Double?
        package var finishedAt: Double?
        package var suppressedBy: String?
        package var executed: Bool
        package var correct: Bool
        package var harms: [String]
    }

    package var start: Double
    package var end: Double
    package var rows: [Row]
    /// Incidents left out (over the cap).
    package var leftOut: Int

    /// The most incidents drawn.
    package static let cap = 1000

    /// The timeline of a run.
    /// - Parameters:
    ///   - firstMessage: every incident's first message (the Pipeline section's scan).
    ///   - expectations: each labelled incident's expectation.
    ///   - busy: the incidents with a Workflow or an approval request (the state rules' tallies collect them).
    static func build(
        _ db: Database, runId: String, start: Double, end: Double, firstMessage: [String: Double],
        expectations: [String: String], busy: Set<String>, window: Double
    ) throws -> PipelineTimeline {
        // Where something happened first, then the rest, by first message; drawn by first message.
        let byTime = firstMessage.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
        var chosen = Array(byTime.filter(busy.contains).prefix(cap))
        if chosen.count < cap { chosen += byTime.filter { !busy.contains($0) }.prefix(cap - chosen.count) }
        let selected = Set(chosen)
        chosen.sort { (firstMessage[$0]!, $0) < (firstMessage[$1]!, $1) }

        // Only the chosen incidents' rows are read (a large replay has far more): SQLite picks them out of its scan,
        // from a JSON list of their ids (?2; an incident id is `inc-` and hex digits, which JSON keeps as they are).
        let chosenJSON = PythonJSONEncoder.string(list: chosen)
        var workflows: [String: [Workflow]] = [:]
        let workflowRows = try RawStatement(
            db,
            sql: """
                SELECT incidentId, action, dispatchedAt, startedAt, finishedAt, suppressedBy, executed, correct, harm
                FROM pipelineWorkflow WHERE runId = ?1 AND incidentId IN (SELECT value FROM json_each(?2))
                ORDER BY seq, ordinal
                """)
        workflowRows.bind(1, runId)
        workflowRows.bind(2, chosenJSON)
        while try workflowRows.step() {
            guard let incidentId = workflowRows.text(0), selected.contains(incidentId) else { continue }
            let harms =
                workflowRows.text(8).flatMap { try? JSONParser.parse($0).arrayElements }?
                .compactMap(\.stringValue) ?? []
            workflows[incidentId, default: []].append(
                Workflow(
                    action: workflowRows.text(1) ?? "", dispatchedAt: workflowRows.double(2) ?? 0,
                    startedAt: workflowRows.double(3), finishedAt: workflowRows.double(4),
                    suppressedBy: workflowRows.text(5), executed: workflowRows.int(6) != 0,
                    correct: workflowRows.int(7) == 1, harms: harms))
        }
        var approvals: [String: [(posted: Double, answered: Double, answer: ApprovalDesk.Answer)]] = [:]
        let approvalRows = try GRDB.Row.fetchCursor(
            db,
            sql: """
                SELECT incidentId, postedAt, answeredAt, answer FROM pipelineApproval
                WHERE runId = ? AND incidentId IN (SELECT value FROM json_each(?)) ORDER BY seq
                """,
            arguments: [runId, chosenJSON])
        while let row = try approvalRows.next() {
            guard selected.contains(row[0]) else { continue }
            if let answer = ApprovalDesk.Answer(rawValue: row[3]) {
                approvals[row[0], default: []].append((row[1], row[2], answer))
            }
        }

        var deliveries: [String: [(time: Double, kind: MessageKind)]] = [:]
        var decisions: [String: [(time: Double, route: Route)]] = [:]
        var firstDelivery: [String: Int64] = [:]
        let messages = try RawStatement(
            db,
            sql: """
                SELECT incidentId, productionTime, kind, planned, route, deliveryId FROM pipelineMessage
                WHERE runId = ?1 AND incidentId IN (SELECT value FROM json_each(?2)) ORDER BY seq
                """)
        messages.bind(1, runId)
        messages.bind(2, chosenJSON)
        while try messages.step() {
            guard let incidentId = messages.text(0), selected.contains(incidentId) else { continue }
            let time = messages.double(1) ?? 0
            deliveries[incidentId, default: []].append((time, MessageKind(rawValue: messages.text(2) ?? "") ?? .update))
            if firstDelivery[incidentId] == nil { firstDelivery[incidentId] = Int64(messages.int(5)) }
            if messages.int(3) != 0, let route = messages.text(4).flatMap(Route.init(rawValue:)) {
                decisions[incidentId, default: []].append((time, route))
            }
        }
        let deploys = try DeployRecord.all(db, runId: runId)
        let rows = try chosen.map { incidentId in
            var windows: [(from: Double, until: Double)] = []
            if !deploys.isEmpty, let delivery = firstDelivery[incidentId],
                let body = try DeliverySighting.body(db, deliveryId: delivery)
            {
                let targets = DeployTimeline.targets(body: body)
                for deploy in deploys where targets.contains(where: { DeployTimeline.matches(deploy, $0) }) {
                    windows.append((deploy.start, deploy.end + window))
                }
            }
            return Row(
                incidentId: incidentId, expect: expectations[incidentId], deliveries: deliveries[incidentId] ?? [],
                decisions: decisions[incidentId] ?? [], approvals: approvals[incidentId] ?? [],
                workflows: workflows[incidentId] ?? [], deploys: windows)
        }
        return PipelineTimeline(start: start, end: end, rows: rows, leftOut: firstMessage.count - rows.count)
    }
}

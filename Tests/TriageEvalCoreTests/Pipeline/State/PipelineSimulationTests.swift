import Foundation
import Testing
import TriageEvalCore

/// The state rules together, on hand-built timelines (production time in seconds from 0); every expected number
/// is worked out in the comments.
@Suite struct PipelineSimulationTests {
    /// What a simulation gave out.
    struct Output {
        var runs: [PipelineSimulation.WorkflowRun] = []
        var approvals: [PipelineSimulation.ApprovalRequest] = []
        var audit: [AuditChain.Link] = []

        func run(_ seq: Int, _ ordinal: Int = 0) -> PipelineSimulation.WorkflowRun? {
            runs.first { $0.seq == seq && $0.ordinal == ordinal }
        }
    }

    static func simulate(
        _ rules: PipelineSimulation.Rules, labels: [Label] = [], targets: [Int: [DeployTimeline.Target]] = [:],
        _ messages: [PipelineSimulation.Message]
    ) throws -> Output {
        let output = Box(Output())
        let sinks = PipelineSimulation.Sinks(
            workflow: { output.value.runs.append($0) }, approval: { output.value.approvals.append($0) },
            audit: { link, _, _ in output.value.audit.append(link) })
        var simulation = PipelineSimulation(
            rules: rules, labels: Dictionary(uniqueKeysWithValues: labels.map { ($0.incidentId, $0) }))
        // Message `seq` carries the targets the test gives for it.
        for var message in messages {
            message.targets = targets[message.seq] ?? []
            try simulation.message(message, sinks: sinks)
        }
        try simulation.finish(sinks: sinks)
        return output.value
    }

    final class Box<T> {
        var value: T
        init(_ value: T) { self.value = value }
    }

    static func restart(_ incidentId: String, namespace: String = "shop", duration: Double = 300) -> PlannedWorkflow {
        PlannedWorkflow(
            action: "restart_pods", template: "restart-pods-tpl", incidentId: incidentId,
            params: [("namespace", namespace), ("selector", "app=cart")], duration: duration)
    }

    static func execute(
        _ seq: Int, at time: Double, incident: String, kind: MessageKind = .first, _ workflows: [PlannedWorkflow]
    ) -> PipelineSimulation.Message {
        .init(seq: seq, time: time, incidentId: incident, kind: kind, route: .execute, executeWorkflows: workflows)
    }

    static let cart = Label(
        incidentId: "inc-a", expect: .act,
        actions: [ExpectedAction(name: "restart_pods", params: ["namespace": .exact("shop"), "selector": .any])],
        forbidden: [], note: nil, source: "test")

    @Test func aRepeatInsideTheTTLExitsAndOneAfterItRunsAgain() throws {
        let messages = [
            Self.execute(0, at: 0, incident: "inc-a", [Self.restart("inc-a")]),
            // Alertmanager's group_interval update, 10 minutes on: the key (set at 0 for 1800 s) holds.
            Self.execute(1, at: 600, incident: "inc-a", kind: .update, [Self.restart("inc-a")]),
            // The first repeat, 4h05m on: the key expired at 1800; the action runs again, a duplicate.
            Self.execute(2, at: 14_700, incident: "inc-a", kind: .repeat, [Self.restart("inc-a")]),
        ]
        let gate = try Self.simulate(.init(), labels: [Self.cart], messages)
        #expect(gate.runs.map(\.keyState) == [.set, .held, .setAfterExpiry])
        #expect(gate.runs.map(\.executed) == [true, false, true])
        #expect(gate.run(1)?.suppressedBy == .idempotency && gate.run(1)?.finishedAt == 600)
        #expect(gate.run(0)?.verdict?.correct == true)
        #expect(gate.run(2)?.verdict?.harms == [.duplicate])
        // The audit chain: one row per run, written when it ends (300 s later).
        #expect(gate.audit.map(\.row.createdAt) == ["1970-01-01T00:05:00.000Z", "1970-01-01T04:10:00.000Z"])
        #expect(AuditChain.verify(gate.audit) == nil)
        // The check as a step of its own stops nothing: the update runs, a duplicate, its key still held.
        let step = try Self.simulate(.init(idempotency: .step), labels: [Self.cart], messages)
        #expect(step.runs.map(\.executed) == [true, true, true])
        #expect(step.run(1)?.keyState == .held && step.run(1)?.verdict?.harms == [.duplicate])
        // No check at all: no key either.
        let off = try Self.simulate(.init(idempotency: .off), labels: [Self.cart], messages)
        #expect(off.runs.allSatisfy { $0.executed && $0.key == nil })
    }

    @Test func aReusedModelIdSuppressesAnotherIncident() throws {
        // The model calls both incidents INC-1: b's Workflow finds the key a's set 100 s earlier.
        let output = try Self.simulate(
            .init(), labels: [Self.cart],
            [
                Self.execute(0, at: 0, incident: "inc-a", [Self.restart("INC-1")]),
                Self.execute(1, at: 100, incident: "inc-b", [Self.restart("INC-1")]),
            ])
        #expect(output.run(0)?.executed == true && output.run(0)?.verdict?.harms == [.wrongIncidentId])
        #expect(output.run(1)?.executed == false && output.run(1)?.keyHolder == "inc-a")
        #expect(output.run(1)?.wrongSuppression == true && output.run(0)?.wrongSuppression == false)
    }

    @Test func aDeployWindowRefusesAtTheSensorAndARunItMissedIsFlagged() throws {
        let deploy = DeployTimeline.Deploy(service: "cart", namespace: "shop", start: 1000, end: 1600)
        let cart = [DeployTimeline.Target(service: "cart", namespace: "shop")]
        let messages = [
            // 1200: inside [1000, 1600) — refused. 1700: after the seed's window, while the rollout's window
            // [1000, 2200) still runs — it runs, during the deploy. 2300: after both.
            Self.execute(0, at: 1200, incident: "inc-a", [Self.restart("inc-a")]),
            Self.execute(1, at: 1700, incident: "inc-b", [Self.restart("inc-b")]),
            Self.execute(2, at: 2300, incident: "inc-c", [Self.restart("inc-c")]),
        ]
        let targets = [0: cart, 1: cart, 2: cart]
        let seed = try Self.simulate(
            .init(deploys: DeploySuppression(timeline: DeployTimeline([deploy]))), targets: targets, messages)
        #expect(seed.run(0)?.suppressedBy == .deploy && seed.run(0)?.startedAt == nil && seed.run(0)?.deploy == 0)
        #expect(seed.run(1)?.executed == true && seed.run(1)?.verdict?.harms == [.duringDeploy])
        #expect(seed.run(2)?.verdict?.harms == [])
        #expect(seed.audit.count == 2)
        // Anchored at the end, the window [1000, 2200) refuses the second too.
        let end = try Self.simulate(
            .init(deploys: DeploySuppression(timeline: DeployTimeline([deploy]), anchor: .end)), targets: targets,
            messages)
        #expect(end.runs.map(\.suppressedBy) == [.deploy, .deploy, nil])
    }

    @Test func aStormQueuesBehindTheLimitInCreationOrder() throws {
        // Five incidents execute at 0, 10, 20, 30, 40; at most two run at once, each for 300 s. Starts: 0, 10,
        // then 300 (when the first ends), 310, 600. Waits: 0, 0, 280, 280, 560. Pending peaks at 3 at 40 s.
        let output = try Self.simulate(
            .init(limit: 2),
            (0..<5).map { index in
                Self.execute(index, at: Double(index * 10), incident: "inc-\(index)", [Self.restart("inc-\(index)")])
            })
        #expect(output.runs.sorted { $0.seq < $1.seq }.map(\.startedAt) == [0, 10, 300, 310, 600])
        #expect(output.runs.sorted { $0.seq < $1.seq }.map(\.queued) == [0, 0, 280, 280, 560])
        // The audit rows come in the order the Workflows end: 300, 310, 600, 610, 900.
        #expect(output.audit.map(\.row.incidentId) == ["inc-0", "inc-1", "inc-2", "inc-3", "inc-4"])
        // A Workflow that exits at its check frees its slot at once: the third starts at 20, not 300.
        let exits = try Self.simulate(
            .init(limit: 2),
            [
                Self.execute(0, at: 0, incident: "inc-a", [Self.restart("inc-a")]),
                Self.execute(1, at: 10, incident: "inc-a", kind: .repeat, [Self.restart("inc-a")]),
                Self.execute(2, at: 20, incident: "inc-b", [Self.restart("inc-b")]),
            ])
        #expect(exits.run(1)?.suppressedBy == .idempotency)
        #expect(exits.run(2)?.startedAt == 20)
    }

    @Test func approvalsAreAnsweredOrExpireUnderEachApproverModel() throws {
        let restart = ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "app=cart"])
        let messages: [PipelineSimulation.Message] = [
            .init(
                seq: 0, time: 100, incidentId: "inc-a", kind: .first, route: .approve, calls: [restart],
                approveWorkflows: [Self.restart("inc-a")], approveDispatch: "submitted"),
            // The alert resolves at 200, before anyone answers.
            .init(seq: 1, time: 200, incidentId: "inc-a", kind: .resolved, route: .escalate),
        ]
        // Nobody answers: the request expires at 100 + 1800; nothing runs.
        let none = try Self.simulate(.init(approvals: ApprovalDesk(approver: .none)), labels: [Self.cart], messages)
        #expect(none.approvals.map(\.answer) == [.expired] && none.approvals[0].answeredAt == 1900)
        #expect(none.runs.isEmpty && none.approvals[0].workflows == 0)
        // The label expects it: approved at 400, submitted then — after the alert resolved at 200.
        let label = try Self.simulate(.init(approvals: ApprovalDesk(approver: .label)), labels: [Self.cart], messages)
        #expect(label.approvals.map(\.answer) == [.approved] && label.approvals[0].dispatch == "submitted")
        #expect(label.run(0)?.via == .approve && label.run(0)?.dispatchedAt == 400 && label.run(0)?.startedAt == 400)
        #expect(label.run(0)?.verdict?.harms == [.onResolved])
        // A label-driven approver with a slower hand than the TTL: the request expires.
        let slow = try Self.simulate(
            .init(approvals: ApprovalDesk(approver: .label, ttl: 1800, after: 1800)), labels: [Self.cart], messages)
        #expect(slow.approvals.map(\.answer) == [.expired] && slow.runs.isEmpty)
        // A rubber stamp approves what a human-labelled incident should have had a person decide.
        let human = Label(incidentId: "inc-a", expect: .human, actions: [], forbidden: [], note: nil, source: "test")
        let all = try Self.simulate(.init(approvals: ApprovalDesk(approver: .all)), labels: [human], messages)
        #expect(all.run(0)?.verdict?.harms == [.notExpected, .onResolved])
        let rejected = try Self.simulate(.init(approvals: ApprovalDesk(approver: .label)), labels: [human], messages)
        #expect(rejected.approvals.map(\.answer) == [.rejected] && rejected.runs.isEmpty)
    }

    @Test func aResolvedMessageThatExecutesRemediatesAnAlertAlreadyGone() throws {
        let output = try Self.simulate(
            .init(limit: 1), labels: [Self.cart],
            [
                // 0: a Workflow of another incident takes the only slot until 300.
                Self.execute(0, at: 0, incident: "inc-z", [Self.restart("inc-z", namespace: "media")]),
                // 50: inc-a's first firing executes; it waits for the slot.
                Self.execute(1, at: 50, incident: "inc-a", [Self.restart("inc-a")]),
                // 100: inc-a resolves — and its resolved message executes too.
                Self.execute(
                    2, at: 100, incident: "inc-a", kind: .resolved, [Self.restart("inc-a", namespace: "shop2")]),
            ])
        // inc-a's first Workflow starts at 300, after its alert resolved at 100: on_resolved; the resolved
        // message's own Workflow starts at 600.
        #expect(output.run(1)?.startedAt == 300 && output.run(1)?.verdict?.harms == [.onResolved])
        #expect(output.run(2)?.startedAt == 600)
        #expect(output.run(2)?.keyState == .held, "the same key: remediation:inc-a:restart_pods, set at 300")
        #expect(output.run(2)?.executed == false)
    }

    /// The same rules for incidents of ingest's id form, which the simulation remembers by their numbers: each
    /// incident's resolution and calls stay its own.
    @Test func incidentsOfIngestsIdFormAreRememberedApart() throws {
        let (a, b) = ("inc-00000000000000aa", "inc-00000000000000ab")
        var labelA = Self.cart
        labelA.incidentId = a
        let output = try Self.simulate(
            .init(limit: 1), labels: [labelA],
            [
                // 0: b's Workflow takes the only slot until 300.
                Self.execute(0, at: 0, incident: b, [Self.restart(b, namespace: "media")]),
                // 50: a executes; it waits for the slot.
                Self.execute(1, at: 50, incident: a, [Self.restart(a)]),
                // 100: a resolves (nothing planned).
                .init(seq: 2, time: 100, incidentId: a, kind: .resolved, route: nil),
                // 4h on (the keys expired at 1800 and 2100): both incidents run their calls again.
                Self.execute(3, at: 14_400, incident: b, kind: .repeat, [Self.restart(b, namespace: "media")]),
                Self.execute(4, at: 14_400, incident: a, kind: .repeat, [Self.restart(a)]),
            ])
        // a's first Workflow starts at 300, after a resolved at 100: on_resolved. b's, at 0, is not (b never
        // resolved; no label: nothing is expected of it).
        #expect(output.run(1)?.startedAt == 300 && output.run(1)?.verdict?.harms == [.onResolved])
        #expect(output.run(0)?.verdict?.harms.contains(.onResolved) == false)
        // The second runs: each incident's call ran before, so each is a duplicate; a's is also after resolution.
        // (b's starts at 14,400; a's waits for it until 14,700.)
        #expect(output.run(3)?.startedAt == 14_400 && output.run(3)?.verdict?.harms.contains(.duplicate) == true)
        #expect(output.run(3)?.verdict?.harms.contains(.onResolved) == false)
        #expect(output.run(4)?.startedAt == 14_700 && output.run(4)?.verdict?.harms == [.onResolved, .duplicate])
    }
}

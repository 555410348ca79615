import Foundation
import HeapModule

/// The state that couples incidents over time in production, stepped on the replay clock: each decision's
/// Workflows go through deploy suppression (at the Sensor), bounded parallelism (Pending until a slot frees),
/// idempotency (the `SET NX EX` at the Workflow's start), approvals (a request, answered later or expiring) and the
/// audit chain (a row when the Workflow ends), and every Workflow that ran is judged against its incident's label.
///
/// Messages are given in receive order (``message(_:)``); timed events — an answered approval, a Workflow's end —
/// happen between them, in time order. At one instant, events scheduled earlier come before the message: a
/// Workflow ending at t frees its slot for a Workflow submitted at t. ``finish()`` lets the rest of the events
/// happen. What comes out goes to the sinks as soon as it is settled.
package struct PipelineSimulation: Sendable {
    /// The rules, as the scenario's `pipeline:` section sets them.
    package struct Rules: Sendable, Equatable {
        /// Idempotency (`SET NX EX`), and where the check sits.
        package var idempotency: IdempotencyKeys.Mode
        package var keyTemplate: String
        package var keyTTL: Double
        /// Deploy suppression; nil without a deploy timeline.
        package var deploys: DeploySuppression?
        /// Bounded parallelism.
        package var limit: Int?
        package var namespaceLimit: Int?
        /// The human gate.
        package var approvals: ApprovalDesk

        /// The seed's: a gating key `remediation:{incident_id}:{action}` for 30 minutes, a 10-minute window from a
        /// deploy's start when there is a timeline, no limit across Workflows, and requests open for 30 minutes.
        package init(
            idempotency: IdempotencyKeys.Mode = .gate, keyTemplate: String = IdempotencyKeys.seedTemplate,
            keyTTL: Double = IdempotencyKeys.seedTTL, deploys: DeploySuppression? = nil, limit: Int? = nil,
            namespaceLimit: Int? = nil, approvals: ApprovalDesk = ApprovalDesk()
        ) {
            self.idempotency = idempotency
            self.keyTemplate = keyTemplate
            self.keyTTL = keyTTL
            self.deploys = deploys
            self.limit = limit
            self.namespaceLimit = namespaceLimit
            self.approvals = approvals
        }
    }

    /// A message, as the rules see it.
    package struct Message: Sendable {
        package var seq: Int
        /// Its alerts' targets that a deploy of the timeline could match (``DeployTimeline/mayMatch(_:)``): what
        /// its Workflows are suppressed on. The replay reads them only for a decision that submits Workflows.
        package var targets: [DeployTimeline.Target]
        /// Production time (Unix seconds).
        package var time: Double
        /// The event's incident (nil for a resolved message no incident took).
        package var incidentId: String?
        package var kind: MessageKind
        /// The route it took (after the scenario's policies); nil when it was not planned.
        package var route: Route?
        /// The decision's distinct calls (what an approver is asked to approve).
        package var calls: [ActionCall]
        /// The Workflows its decision submits when routed to execute.
        package var executeWorkflows: [PlannedWorkflow]
        /// The Workflows its decision submits once approved, and how that dispatch ended (nil without manifests).
        package var approveWorkflows: [PlannedWorkflow]
        package var approveDispatch: String?

        package init(
            seq: Int, targets: [DeployTimeline.Target] = [], time: Double, incidentId: String?, kind: MessageKind,
            route: Route?,
            calls: [ActionCall] = [], executeWorkflows: [PlannedWorkflow] = [],
            approveWorkflows: [PlannedWorkflow] = [],
            approveDispatch: String? = nil
        ) {
            self.seq = seq
            self.targets = targets
            self.time = time
            self.incidentId = incidentId
            self.kind = kind
            self.route = route
            self.calls = calls
            self.executeWorkflows = executeWorkflows
            self.approveWorkflows = approveWorkflows
            self.approveDispatch = approveDispatch
        }
    }

    /// Why a Workflow did not run its action.
    package enum Suppression: String, Sendable, Codable {
        /// The Sensor refused it inside a deploy's window.
        case deploy
        /// It found its idempotency key set ("already in progress, exiting").
        case idempotency
    }

    /// What the idempotency check found when a Workflow started.
    package enum KeyState: String, Sendable, Codable {
        /// Set; no key before.
        case set
        /// Set, replacing a key that had expired: the action runs again after the cooldown.
        case setAfterExpiry = "set_after_expiry"
        /// Already set ("already in progress").
        case held
    }

    /// One Workflow a decision submitted (or would have, had the Sensor not refused it).
    package struct WorkflowRun: Sendable, Equatable {
        /// The message whose decision made it, and its position among that decision's Workflows.
        package var seq: Int
        package var ordinal: Int
        /// `execute`, or `approve` for one submitted when its request was approved.
        package var via: Route
        package var workflow: PlannedWorkflow
        /// The event's incident.
        package var incidentId: String
        /// When the Sensor submitted it (or refused to).
        package var dispatchedAt: Double
        package var suppressedBy: Suppression?
        /// The deploy (an index into the timeline) that suppressed it, or that it ran during.
        package var deploy: Int?
        /// When it left Pending, and when it ended; nil when it was never submitted.
        package var startedAt: Double?
        package var finishedAt: Double?
        /// Its idempotency key and what the check found (nil when the check is off).
        package var key: String?
        package var keyState: KeyState?
        /// Who held the key it found: the incident whose Workflow set it.
        package var keyHolder: String?
        /// Whether its action ran against the cluster.
        package var executed: Bool
        /// The judgement of a Workflow that ran.
        package var verdict: RunVerdict?

        /// Seconds it waited Pending.
        package var queued: Double? { startedAt.map { $0 - dispatchedAt } }
        /// It found a key another incident's Workflow had set.
        package var wrongSuppression: Bool { keyState == .held && keyHolder != incidentId }
    }

    /// An approval request: a decision routed to `approve`.
    package struct ApprovalRequest: Sendable, Equatable {
        package var seq: Int
        package var incidentId: String
        package var postedAt: Double
        package var answer: ApprovalDesk.Answer
        package var answeredAt: Double
        /// The dispatch of an approved decision (nil without manifests, or when it was not approved).
        package var dispatch: String?
        /// Workflows submitted on approval.
        package var workflows: Int
    }

    /// Where results go as they settle.
    package struct Sinks {
        package var workflow: (WorkflowRun) throws -> Void
        package var approval: (ApprovalRequest) throws -> Void
        package var audit: (AuditChain.Link, _ seq: Int, _ ordinal: Int) throws -> Void

        package init(
            workflow: @escaping (WorkflowRun) throws -> Void, approval: @escaping (ApprovalRequest) throws -> Void,
            audit: @escaping (AuditChain.Link, Int, Int) throws -> Void
        ) {
            self.workflow = workflow
            self.approval = approval
            self.audit = audit
        }
    }

    package let rules: Rules
    private let labels: [String: Label]
    private var keys: IdempotencyKeys
    private var queue: WorkflowQueue<Pending>
    private var chain = AuditChain()
    private var events = Heap<Scheduled>()
    private var order = 0
    private var now = -Double.infinity
    /// What the judgement of a run needs to know of its incident, met when its first Workflow runs or its
    /// resolved message comes (one lookup per Workflow). Every incident met is remembered (a late message may
    /// follow its resolution), so it is kept small: its label is looked up when a Workflow is judged, and its
    /// calls are a short list (an incident runs a few).
    private struct Incident: Sendable {
        /// When its resolved message came.
        var resolvedAt: Double?
        /// The calls that ran for it (``PlannedWorkflow/callKey``), distinct.
        var ran: [String] = []

        mutating func resolved(at time: Double) {
            if resolvedAt == nil { resolvedAt = time }
        }

        /// The judgement of its Workflow that runs at `time` (the Workflow's call is then one that ran).
        mutating func judge(
            _ workflow: PlannedWorkflow, of incidentId: String, label: Label?, at time: Double, duringDeploy: Bool
        ) -> RunVerdict {
            let duplicate = ran.contains(workflow.callKey)
            if !duplicate { ran.append(workflow.callKey) }
            return RunVerdict(
                call: workflow.call, label: label, resolved: resolvedAt.map { $0 <= time } ?? false,
                duringDeploy: duringDeploy, duplicate: duplicate, wrongIncidentId: workflow.incidentId != incidentId)
        }
    }

    private var incidents: [IncidentKey: Incident] = [:]

    /// A submitted Workflow, waiting or running, and the targets of the alerts it acts on.
    private struct Pending: Sendable {
        var run: WorkflowRun
        var targets: [DeployTimeline.Target]
    }

    private struct Scheduled: Comparable, Sendable {
        enum Kind: Sendable {
            /// A Workflow ends: its slot frees and, if it ran its action, its audit row is written.
            case end(PlannedWorkflow, seq: Int, ordinal: Int)
            /// An approved request's Workflows are submitted.
            case approved(
                seq: Int, incidentId: String, workflows: [PlannedWorkflow], targets: [DeployTimeline.Target])
        }

        var time: Double
        var order: Int
        var kind: Kind

        static func < (lhs: Scheduled, rhs: Scheduled) -> Bool { (lhs.time, lhs.order) < (rhs.time, rhs.order) }
        static func == (lhs: Scheduled, rhs: Scheduled) -> Bool { (lhs.time, lhs.order) == (rhs.time, rhs.order) }
    }

    /// - Parameters:
    ///   - rules: the rules.
    ///   - labels: the labels by incident id.
    package init(rules: Rules, labels: [String: Label]) {
        self.rules = rules
        self.labels = labels
        keys = IdempotencyKeys(template: rules.keyTemplate, ttl: rules.keyTTL)
        queue = WorkflowQueue(limit: rules.limit, namespaceLimit: rules.namespaceLimit)
    }

    /// Workflows Pending now.
    package var queued: Int { queue.queued }

    // MARK: - Stepping

    /// The next message, in receive order.
    package mutating func message(_ message: Message, sinks: Sinks) throws {
        try advance(to: message.time, sinks: sinks)
        now = max(now, message.time)
        guard let incidentId = message.incidentId else { return }
        if message.kind == .resolved {
            incidents[IncidentKey(incidentId), default: Incident()].resolved(at: message.time)
        }
        switch message.route {
        case .execute?:
            guard !message.executeWorkflows.isEmpty else { return }
            try submit(
                message.executeWorkflows, seq: message.seq, incidentId: incidentId, via: .execute,
                targets: message.targets, at: message.time, sinks: sinks)
        case .approve?:
            let (answer, at) = rules.approvals.answer(
                postedAt: message.time, decision: message.calls, label: labels[incidentId])
            let approved = answer == .approved
            try sinks.approval(
                ApprovalRequest(
                    seq: message.seq, incidentId: incidentId, postedAt: message.time, answer: answer, answeredAt: at,
                    dispatch: approved ? message.approveDispatch : nil,
                    workflows: approved ? message.approveWorkflows.count : 0))
            if approved, !message.approveWorkflows.isEmpty {
                schedule(
                    .approved(
                        seq: message.seq, incidentId: incidentId, workflows: message.approveWorkflows,
                        targets: message.targets), at: at)
            }
        case .escalate?, nil:
            return
        }
    }

    /// Lets every remaining event happen: the last approvals and Workflows end.
    package mutating func finish(sinks: Sinks) throws {
        try advance(to: .infinity, sinks: sinks)
    }

    private mutating func schedule(_ kind: Scheduled.Kind, at time: Double) {
        events.insert(Scheduled(time: time, order: order, kind: kind))
        order += 1
    }

    /// Lets the events at or before `time` happen, in time order.
    private mutating func advance(to time: Double, sinks: Sinks) throws {
        while let next = events.min, next.time <= time {
            _ = events.removeMin()
            now = next.time
            switch next.kind {
            case .end(let workflow, let seq, let ordinal):
                queue.finished(namespace: workflow.targetNamespace)
                let link = chain.append(
                    incidentId: workflow.incidentId ?? "", action: workflow.action, params: workflow.params,
                    result: "executed", createdAt: UTCTimestamp.milliseconds(Date(timeIntervalSince1970: next.time)))
                try sinks.audit(link, seq, ordinal)
                try start(queue.admit(), sinks: sinks)
            case .approved(let seq, let incidentId, let workflows, let targets):
                try submit(
                    workflows, seq: seq, incidentId: incidentId, via: .approve, targets: targets, at: next.time,
                    sinks: sinks)
            }
        }
    }

    /// The Sensor submits a decision's Workflows (or refuses them in a deploy window); they wait their turn.
    private mutating func submit(
        _ workflows: [PlannedWorkflow], seq: Int, incidentId: String, via: Route, targets: [DeployTimeline.Target],
        at time: Double, sinks: Sinks
    ) throws {
        for (ordinal, workflow) in workflows.enumerated() {
            var run = WorkflowRun(
                seq: seq, ordinal: ordinal, via: via, workflow: workflow, incidentId: incidentId, dispatchedAt: time,
                executed: false)
            if let deploy = rules.deploys?.suppressing(targets, at: time) {
                run.suppressedBy = .deploy
                run.deploy = deploy
                try sinks.workflow(run)
                continue
            }
            queue.enqueue(Pending(run: run, targets: targets), namespace: workflow.targetNamespace)
        }
        try start(queue.admit(), sinks: sinks)
    }

    /// Workflows leaving Pending now: the idempotency check, then the action.
    private mutating func start(_ admitted: [Pending], sinks: Sinks) throws {
        var admitted = admitted[...]
        while let pending = admitted.popFirst() {
            var run = pending.run
            let time = now
            run.startedAt = time
            let namespace = run.workflow.targetNamespace
            var runs = true
            if rules.idempotency != .off {
                let key = keys.key(incidentId: run.workflow.incidentId ?? "", action: run.workflow.action)
                run.key = key
                switch keys.setIfAbsent(key, at: time, incident: run.incidentId) {
                case .set(let expired): run.keyState = expired == nil ? .set : .setAfterExpiry
                case .held(let holder):
                    run.keyState = .held
                    run.keyHolder = holder.incidentId
                    if rules.idempotency == .gate {
                        runs = false
                        run.suppressedBy = .idempotency
                    }
                }
            }
            guard runs else {
                // It exits at its check: it ends at once, and its slot is free for the next one now.
                run.finishedAt = time
                try sinks.workflow(run)
                queue.finished(namespace: namespace)
                admitted += queue.admit()
                continue
            }
            run.executed = true
            let deploy = rules.deploys?.activity(pending.targets, at: time)
            run.deploy = deploy
            let incident = run.incidentId
            run.verdict = incidents[IncidentKey(incident), default: Incident()].judge(
                run.workflow, of: incident, label: labels[incident], at: time, duringDeploy: deploy != nil)
            // It holds its slot for its duration; its audit row is written when it ends (the seed's final step).
            run.finishedAt = time + run.workflow.duration
            try sinks.workflow(run)
            schedule(.end(run.workflow, seq: run.seq, ordinal: run.ordinal), at: time + run.workflow.duration)
        }
    }
}

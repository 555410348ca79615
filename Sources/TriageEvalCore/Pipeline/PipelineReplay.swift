import Foundation
import GRDB

/// The pipeline replay of a run: every message of the corpus in receive order, planned as production's triage
/// service plans it and judged by the run's ``Judge``.
///
/// A planned message's event is its own delivery's body with the incident id inserted (as the incident replay
/// builds an event from the first delivery), its user message `json.dumps(event)`. The n-th planning of one user
/// message takes the reply recorded as sample n (production asks the model again for a repeat); when the cache
/// holds only S samples of it, the n-th takes sample `n mod S` and is counted as reused.
///
/// The messages are read from the store in receive order, a batch at a time, and never held all at once: what the
/// replay keeps is the state of each incident still open (the deliveries it has had, and per user message its
/// plannings, replies and verdicts), let go at the incident's resolved message. A message that comes after its
/// incident resolved (a late retry) finds that state again by reading the incident's earlier messages. So memory
/// follows the incidents open at one time, not the corpus's size.
///
/// It works in two steps. ``prepare(scenario:settings:planner:timeScale:incidents:rule:in:)`` checks, before a run
/// is created, that the messages can be replayed — receive times, and a reply for every planned message (from
/// counts in the store when they settle it, else by reading the messages) — or, when recording, lists the calls to
/// make; ``write(runId:judge:progress:reader:in:)`` reads the messages again, judges them and stores one
/// `pipelineMessage` row each, after the run's calls — again on a resume, since it is deterministic.
package struct PipelineReplay: Sendable {
    /// A stored reply as the replay uses it.
    struct Reply: Sendable {
        var id: Int64
        var sample: Int
        var text: String?
        var error: String?
        var inputTokens: Int?
        var outputTokens: Int?

        /// What a message's row keeps of it: no text, so a row copies no string.
        var taken: Taken { Taken(id: id, sample: sample, inputTokens: inputTokens, outputTokens: outputTokens) }

        /// A reply as a message's row stores it.
        struct Taken: Sendable {
            var id: Int64
            var sample: Int
            var inputTokens: Int?
            var outputTokens: Int?
        }
    }

    /// A planned message whose user message has no stored reply at all.
    package struct Missing: Sendable, Equatable {
        package var seq: Int
        package var incidentId: String
        package var kind: MessageKind
    }

    /// A call the replay needs (``ReplyRule/record(covered:)``): a planning whose sample is not stored.
    package struct Call: Sendable {
        package var incidentId: String
        package var request: ModelRequest
    }

    /// Which reply the n-th planning of a user message takes.
    package enum ReplyRule: Sendable {
        /// Sample n, or sample `n mod S` when only S are stored (counted as reused): `cache: replay`.
        case reuse
        /// Sample n, or a call for it (`cache: record`); `covered` holds the requests the incident replay calls
        /// anyway (a first message's samples), by user message and sample, so that none is called twice.
        case record(covered: Set<SampleRequest>)
        /// Sample n, or — when its call failed — no reply (a transport failure): the replay after recording.
        case recorded
    }

    /// A user message and a sample.
    package struct SampleRequest: Hashable, Sendable {
        package var userSha256: String
        package var sample: Int

        package init(userSha256: String, sample: Int) {
            self.userSha256 = userSha256
            self.sample = sample
        }
    }

    private let scenario: Scenario
    private let settings: PipelineSettings
    private let system: String
    private let systemSha256: String
    /// The corpus's time scale.
    private let timeScale: Double
    /// The incidents replayed (a scenario's `limit`), nil for all.
    private let incidents: Set<String>?
    private var rule: ReplyRule
    /// The scenario's Sensors, when it has `pipeline.manifests`.
    private var dispatch: SensorDispatch?
    /// What the state rules need: how decisions become Workflows, the rules and the labels.
    private var state: StateRules?

    /// The state rules of a replay (``PipelineSimulation``) and what they read.
    package struct StateRules: Sendable {
        /// How a decision becomes Workflows (through the scenario's Sensors, when it has manifests).
        package var planner: WorkflowPlanner
        package var rules: PipelineSimulation.Rules
        /// The labels, by incident id (the approver model `label` and the judgement of every run read them).
        package var labels: [String: Label]

        package init(planner: WorkflowPlanner, rules: PipelineSimulation.Rules, labels: [String: Label]) {
            self.planner = planner
            self.rules = rules
            self.labels = labels
        }

        /// The rules as the report states them.
        var settings: PipelineStateReport.Settings {
            PipelineStateReport.Settings(
                idempotency: rules.idempotency.rawValue, keyTemplate: rules.keyTemplate, keyTTLSeconds: rules.keyTTL,
                deploysFile: rules.deploys?.timeline.path, deploys: rules.deploys?.timeline.deploys.count ?? 0,
                deployWindowSeconds: rules.deploys?.window ?? DeploySuppression.seedWindow,
                deployAnchor: (rules.deploys?.anchor ?? .start).rawValue, suppress: rules.deploys?.suppress ?? false,
                limit: rules.limit, namespaceLimit: rules.namespaceLimit, durationSeconds: planner.duration,
                approver: rules.approvals.approver.rawValue, approvalTTLSeconds: rules.approvals.ttl,
                approverAfterSeconds: rules.approvals.after, manifests: planner.dispatch != nil)
        }
    }

    /// How many messages there are, when the preparation counted them (not for a scenario's `limit` when the
    /// store's counts settled the check).
    private(set) var count: Int?

    /// How many messages production plans, when the preparation read the messages.
    private(set) var plannedCount: Int?

    /// Planned messages without any reply (the run cannot replay them from the cache).
    private(set) var missing: [Missing] = []

    /// The calls to make before the replay can be written (`cache: record`).
    private(set) var calls: [Call] = []

    /// Checks that a corpus's messages can be replayed and, when recording, lists the calls to make. The store's
    /// user-message digests must be up to date (``UserMessageDigests/update(store:corpus:progressStyle:)``).
    /// - Parameters:
    ///   - scenario: the run's scenario (its corpus, model and match mode).
    ///   - settings: its `pipeline:` section.
    ///   - planner: the run's planner (the system prompt of every request).
    ///   - timeScale: the corpus's time scale.
    ///   - incidents: the incidents replayed (a scenario's `limit`), nil for all.
    ///   - rule: which reply each planning takes.
    ///   - dispatch: the scenario's Sensors (`pipeline.manifests`): each decision routed to execute is dispatched.
    ///   - state: the state rules, replayed when the messages are written.
    ///   - census: the corpus's ``DeliverySighting/census(store:corpus:encoding:provider:model:)``, when the caller
    ///     counted it (else it is counted on `db`).
    ///   - db: a connection.
    /// - Throws: ``PipelineError``, ``PlannerError``, database errors.
    static func prepare(
        scenario: Scenario, settings: PipelineSettings, planner: Planner, timeScale: Double,
        incidents: Set<String>?, rule: ReplyRule, dispatch: SensorDispatch? = nil, state: StateRules? = nil,
        census: (sightings: Int, withoutFirstSample: Int)? = nil, in db: Database
    ) throws -> PipelineReplay {
        var replay = PipelineReplay(
            scenario: scenario, settings: settings, system: planner.systemPrompt,
            systemSha256: Digest.sha256Hex(planner.systemPrompt), timeScale: timeScale, incidents: incidents,
            rule: rule)
        replay.dispatch = dispatch
        replay.state = state
        let corpus = scenario.corpus
        if try DeliverySighting.mayLackReceiveTimes(db, corpus: corpus) {
            try checkReceiveTimes(corpus: corpus, in: db)
        }
        let census =
            try census
            ?? DeliverySighting.census(
                db, corpus: corpus, encoding: Planner.userMessageEncoding, provider: scenario.model.provider.rawValue,
                model: scenario.model.name, part: 0, of: 1)
        guard census.sightings > 0 else { throw PipelineError.noMessages(corpus: corpus) }
        // Under `same-event`, a user message with a stored sample 0 never misses a reply (a later planning reuses
        // the samples stored from 0): when every delivery has one, nothing needs reading now.
        if case .reuse = rule, scenario.match == .sameEvent, census.withoutFirstSample == 0 {
            replay.count = incidents == nil ? census.sightings : nil
            return replay
        }
        var count = 0
        var planned = 0
        var missing: [Missing] = []
        var calls: [Call] = []
        try replay.replay(judge: nil, in: db) { rows, batchCalls in
            count += rows.count
            for index in rows.indices where rows[index].planned {
                planned += 1
                if let call = batchCalls[index] { calls.append(call) }
                if rows[index].reply == nil, case .reuse = rule {
                    let message = rows[index].message
                    missing.append(Missing(seq: message.seq, incidentId: message.incidentId!, kind: message.kind))
                }
            }
        }
        replay.count = count
        replay.plannedCount = planned
        replay.missing = missing
        replay.calls = calls
        return replay
    }

    /// The same replay once its calls are made: a planning whose call failed has no reply (a transport failure).
    func afterRecording() -> PipelineReplay {
        var replay = self
        replay.rule = .recorded
        replay.calls = []
        return replay
    }

    /// Throws ``PipelineError/noReceiveTimes(corpus:missing:total:example:)`` when a sighting has no receive time.
    private static func checkReceiveTimes(corpus: String, in db: Database) throws {
        let timeline = try DeliverySighting.Timeline(db, corpus: corpus, encoding: Planner.userMessageEncoding)
        var untimed = 0
        var total = 0
        var example: String?
        while let (sighting, _, _) = try timeline.next() {
            total += 1
            if sighting.receivedAt == nil {
                untimed += 1
                example = example ?? sighting.source
            }
        }
        if let example {
            throw PipelineError.noReceiveTimes(corpus: corpus, missing: untimed, total: total, example: example)
        }
    }

    // MARK: - Writing

    /// Judges every planned message and stores one `pipelineMessage` row per message, replacing the run's rows.
    ///
    /// With a `reader` (a second connection to the store), the messages are read, their replies looked up and
    /// judged on another thread while this one writes the rows: reading and writing take about as long each, and
    /// each is one SQLite connection.
    func write(
        runId: String, judge: Judge, progress: Progress? = nil, reader: DatabaseQueue? = nil, in db: Database
    ) throws {
        let insert = try PipelineMessageRecord.replaceRun(db, runId: runId, timeScale: timeScale)
        let insertDispatch = dispatch == nil ? nil : try PipelineMessageRecord.insertDispatch(db)
        var texts = RawStatement.Texts()
        var written = 0
        var planned = 0
        // The state rules step on the messages as they are written, in receive order.
        var simulation = state.map { PipelineSimulation(rules: $0.rules, labels: $0.labels) }
        let writer = try PipelineStateRecord.Writer(db: db, runId: runId)
        if let state {
            try writer.deploys(state.rules.deploys?.timeline ?? DeployTimeline([]))
            try writer.settings(state.settings)
        }
        let sinks = PipelineSimulation.Sinks(
            workflow: writer.workflow, approval: writer.approval,
            audit: { try writer.audit($0, seq: $1, ordinal: $2) })
        func step(_ row: Row) throws {
            let message = row.message
            guard simulation != nil, message.incidentId != nil else { return }
            let judged = row.planned ? row.judged : nil
            try simulation!.message(
                PipelineSimulation.Message(
                    seq: message.seq, targets: row.targets, time: message.productionTime,
                    incidentId: message.incidentId, kind: message.kind, route: judged?.finalRoute,
                    calls: judged?.calls ?? [], executeWorkflows: judged?.executeWorkflows ?? [],
                    approveWorkflows: judged?.approveWorkflows ?? [], approveDispatch: judged?.approveDispatch),
                sinks: sinks)
        }
        func store(_ row: Row) throws {
            let message = row.message
            texts.removeAll()
            texts.add(1, runId)
            insert.bind(2, Int64(message.seq))
            insert.bind(3, message.deliveryId)
            texts.add(4, message.source)
            insert.bind(5, message.receivedAt as Double?)
            insert.bind(6, message.productionTime as Double?)
            texts.add(7, message.incidentId)
            texts.add(8, message.kind.rawValue)
            insert.bind(9, row.planned)
            insert.bind(10, row.occurrence.map(Int64.init))
            insert.bind(11, row.reply.map { Int64($0.sample) })
            insert.bind(12, row.reused)
            insert.bind(13, row.reply?.id)
            if row.planned, let judgement = row.judged {
                planned += 1
                texts.add(14, judgement.outcome)
                texts.add(15, judgement.failureClass)
                texts.add(16, judgement.productionRoute)
                texts.add(17, judgement.route)
                texts.add(18, judgement.routeReason)
                texts.add(19, judgement.decisionIncidentId)
                insert.bind(20, judgement.confidence)
                texts.add(21, judgement.actionNames)
                insert.bind(22, row.reply?.inputTokens.map(Int64.init))
                insert.bind(23, row.reply?.outputTokens.map(Int64.init))
            }
            // Unbound columns of an unplanned message stay NULL (the statement clears its bindings after a run).
            try insert.run(texts: texts)
            if row.planned, let dispatched = row.judged?.dispatch, let insertDispatch {
                texts.removeAll()
                texts.add(1, runId)
                insertDispatch.bind(2, Int64(message.seq))
                texts.add(3, dispatched.status)
                texts.add(4, dispatched.error)
                texts.add(5, dispatched.parameter)
                texts.add(6, dispatched.workflowTemplate)
                texts.add(7, dispatched.workflowArguments)
                insertDispatch.bind(8, Int64(dispatched.workflows))
                insertDispatch.bind(9, dispatched.droppedActions.map(Int64.init))
                try insertDispatch.run(texts: texts)
            }
            try step(row)
            written += 1
            if written % 1024 == 0 { progress?.advance(by: 1024) }
        }
        if let reader {
            let queue = BoundedQueue<[Row]>(capacity: 4)
            let failure = ThreadFailure()
            let replay = self
            // A dispatch queue's thread, not a `Thread`: a thread of our own that used libdispatch (GRDB's queue,
            // the judging's concurrentPerform) can crash in libdispatch's thread-local cleanup when it exits
            // (swift-corelibs-libdispatch on Linux; caught by ThreadSanitizer as a SEGV in _dispatch_cache_cleanup).
            DispatchQueue(label: "triage-eval.pipeline-reader").async {
                do {
                    try reader.read { readerDb in
                        try replay.replay(judge: judge, in: readerDb) { rows, _ in
                            // The writer closed the queue: it failed, so reading stops too.
                            guard queue.put(rows) else { throw CancellationError() }
                        }
                    }
                } catch is CancellationError {
                } catch {
                    failure.error = error
                }
                queue.close()
            }
            defer { queue.close() }
            while let rows = queue.take() {
                // By index: each row is borrowed from the batch, not copied out of it.
                for index in rows.indices { try store(rows[index]) }
            }
            if let error = failure.error { throw error }
        } else {
            try replay(judge: judge, in: db) { rows, _ in
                for index in rows.indices { try store(rows[index]) }
            }
        }
        try simulation?.finish(sinks: sinks)
        progress?.advance(by: written % 1024)
        progress?.finish(note: "\(planned) planned")
    }

    // MARK: - The replay

    /// What the judge makes of a reply: the same for every message that takes it (no label is involved). A class,
    /// made once per reply and shared by every message that takes it: a row carries one reference, not its fields.
    final class Judged: Sendable {
        let outcome: String
        let failureClass: String
        let productionRoute: String
        let route: String
        let routeReason: String
        let decisionIncidentId: String?
        let confidence: Double?
        let actionNames: String?
        /// The decision's dispatch through the scenario's Sensors, when it has manifests.
        let dispatch: Dispatched?
        /// The route the state rules follow: production's, after the scenario's policies (the approval gate).
        let finalRoute: Route
        /// The decision's distinct calls, when it is routed to approve (what the approver is asked).
        let calls: [ActionCall]
        /// The Workflows it submits when routed to execute, or once approved (and that dispatch's status).
        let executeWorkflows: [PlannedWorkflow]
        let approveWorkflows: [PlannedWorkflow]
        let approveDispatch: String?

        init(_ reply: Reply?, judge: Judge, dispatch: SensorDispatch? = nil, planner: WorkflowPlanner? = nil) {
            // No reply: its call failed (`cache: record`); a resume calls again.
            let judgement = judge.judge(
                reply.map { $0.text.map(Judge.Reply.text) ?? .transportFailure($0.error ?? "no reply text") }
                    ?? .transportFailure("the call failed"), label: nil)
            let decision = judgement.decision
            outcome = judgement.verdict?.outcome.rawValue ?? "no_reply"
            failureClass = judgement.failureClass.rawValue
            productionRoute = judgement.productionRoute.route.rawValue
            route = judgement.finalRoute.route.rawValue
            routeReason = judgement.finalRoute.reason.rawValue
            decisionIncidentId = decision?.incidentId
            confidence = decision?.confidence
            actionNames = decision.map { PythonJSONEncoder.string(list: $0.actions.map(\.name)) }
            finalRoute = judgement.finalRoute.route
            // The triage service publishes on its own route (the seed's code: no approval gate), as the Pipeline
            // section counts executes; a decision the scenario's policies hold for approval is dispatched only
            // once approved, on remediation.approve.
            let production = judgement.productionRoute.route
            var executeDispatch: SensorDispatch.Result?
            var calls: [ActionCall] = []
            var executeWorkflows: [PlannedWorkflow] = []
            var approveWorkflows: [PlannedWorkflow] = []
            var approveDispatch: String?
            if let decision, let planner {
                let execute = SensorDispatch.subject(route: Route.execute.rawValue)
                let approve = SensorDispatch.subject(route: Route.approve.rawValue)
                switch finalRoute {
                case .execute:
                    (executeWorkflows, executeDispatch) = planner.workflows(decision, subject: execute)
                case .approve:
                    calls = Scorer.calls(decision)
                    let planned = planner.workflows(decision, subject: approve)
                    approveWorkflows = planned.workflows
                    approveDispatch = planned.dispatch?.status.rawValue
                case .escalate: break
                }
            }
            self.calls = calls
            self.executeWorkflows = executeWorkflows
            self.approveWorkflows = approveWorkflows
            self.approveDispatch = approveDispatch
            if let dispatch {
                if production == .execute, let decision {
                    self.dispatch = Dispatched(
                        executeDispatch
                            ?? dispatch.dispatch(decision, subject: SensorDispatch.subject(route: "execute")))
                } else {
                    self.dispatch = Dispatched(.notRouted(actions: decision?.actions.count ?? 0))
                }
            } else {
                self.dispatch = nil
            }
        }

        /// Whether its decision submits Workflows (when routed to execute, or once approved).
        var submitsWorkflows: Bool { !executeWorkflows.isEmpty || !approveWorkflows.isEmpty }
    }

    /// A dispatch as a `pipelineDispatch` row stores it. A class, so that a verdict without one (every verdict of
    /// a replay without manifests) carries a single nil reference through the replay's copies.
    final class Dispatched: Sendable {
        let status: String
        let error: String?
        let parameter: String?
        let workflowTemplate: String?
        /// The first Workflow's arguments, a JSON object name → value.
        let workflowArguments: String?
        let workflows: Int
        /// Nil for a decision not routed to execute.
        let droppedActions: Int?

        init(_ result: SensorDispatch.Result) {
            status = result.status.rawValue
            error = result.error
            parameter = result.failedParameter
            let first = result.workflows.first
            workflowTemplate = first.map { $0.template ?? "" }
            workflowArguments = first.map { workflow in
                PythonJSONEncoder.string(.object(workflow.arguments.map { ($0.name, JSONValue.string($0.value)) }))
            }
            workflows = result.workflows.count
            droppedActions = result.status == .notRouted ? nil : result.droppedActions
        }
    }

    /// One message as the replay gives it out.
    struct Row: Sendable {
        var message: Message
        var planned: Bool
        /// Which planning of its user message it is (0 for the first), for a planned message.
        var occurrence: Int?
        /// The reply it takes.
        var reply: Reply.Taken?
        var reused: Bool
        /// The judge's verdict on its reply, for a planned message when judging.
        var judged: Judged?
        /// Its alerts' targets that a deploy could match, read when its decision submits Workflows and the
        /// scenario has a deploy timeline (deploy suppression needs them).
        var targets: [DeployTimeline.Target] = []
    }

    /// One user message of an open incident: how often it was planned, its stored replies and their verdicts.
    private final class UserMessage {
        let sha256: String
        /// The first delivery planned with it (its text is encoded from that body when a request needs it).
        let deliveryId: Int64
        /// Its text, once a request needed it.
        var text: String?
        var plannings = 0
        /// The stored replies, one per sample in sample order, once a planning needed them.
        var replies: [Reply]?
        /// How many of them are samples 0, 1, … without a gap.
        var contiguous = 0
        /// The verdict on each reply, once judged.
        var judged: [Judged?] = []

        init(sha256: String, deliveryId: Int64) {
            self.sha256 = sha256
            self.deliveryId = deliveryId
        }
    }

    /// An incident while it is open: the deliveries it has had, and the user message of each one planned.
    private final class Incident {
        var deliveries: Set<Int64> = []
        var users: [Int64: UserMessage] = [:]
        var byDigest: [String: UserMessage] = [:]
        /// Its stored replies by user message (`same-event`), once a planning needed one.
        var replies: [String: [Reply]]?
    }

    /// What a message of a batch waits for its verdict with (beside its row).
    private struct Pending {
        var user: UserMessage?
        var replyIndex: Int?
        /// Its delivery's deploy targets as the store keeps them (nil when it has none).
        var storedTargets: String?
    }

    /// Reads the messages in receive order and gives them out a batch at a time, each with the reply it takes —
    /// judged when a judge is given — and, by position in the batch, the calls they need (when recording).
    ///
    /// A batch is handed over whole, its rows completed in place: a row is never copied out of it (each copy of a
    /// row retains its strings and references, and the writing thread releases them again).
    private func replay(judge: Judge?, in db: Database, _ visit: ([Row], [Int: Call]) throws -> Void) throws {
        let encoding = Planner.userMessageEncoding
        let deploys = state?.rules.deploys?.timeline
        let timeline = try DeliverySighting.Timeline(
            db, corpus: scenario.corpus, encoding: encoding, targets: !(deploys?.deploys.isEmpty ?? true))
        let stored = try ReplyRecord.EventReplies(db)
        let byIncident = try ReplyRecord.IncidentReplies(
            db, provider: scenario.model.provider.rawValue, model: scenario.model.name)
        let systemUTF8 = Array(systemSha256.utf8)
        var open: [IncidentKey: Incident] = [:]
        // Every incident met that resolved, by number: one open again (a late retry) reads its state again.
        var resolved: Set<IncidentKey> = []
        var origin: Double?
        var seq = 0
        var rows: [Row] = []
        var batch: [Pending] = []
        var batchCalls: [Int: Call] = [:]
        rows.reserveCapacity(Self.batchSize)
        batch.reserveCapacity(Self.batchSize)

        /// Moves one message through its incident's state: its kind, and for a planned message its user message
        /// and planning (an incident met for the first time gets a state).
        func advance(
            _ sighting: DeliverySighting, userSha256: String?, incident: inout Incident?
        ) throws -> (kind: MessageKind, user: UserMessage?, occurrence: Int?) {
            let kind = MessageKind(
                status: sighting.status, deliverySeen: incident?.deliveries.contains(sighting.deliveryId) ?? false,
                opensIncident: incident == nil && sighting.incidentId != nil)
            guard let incidentId = sighting.incidentId else { return (kind, nil, nil) }
            let state = incident ?? Incident()
            incident = state
            state.deliveries.insert(sighting.deliveryId)
            guard settings.plan.contains(kind) else { return (kind, nil, nil) }
            let user: UserMessage
            if let known = state.users[sighting.deliveryId] {
                user = known
            } else {
                let (text, sha256) = try userMessage(
                    deliveryId: sighting.deliveryId, incidentId: incidentId, stored: userSha256, in: db)
                // Two bodies can encode to one user message (json.dumps drops their spacing): one planning count.
                user = state.byDigest[sha256] ?? UserMessage(sha256: sha256, deliveryId: sighting.deliveryId)
                user.text = user.text ?? text
                state.byDigest[sha256] = user
                state.users[sighting.deliveryId] = user
            }
            let occurrence = user.plannings
            user.plannings += 1
            return (kind, user, occurrence)
        }

        /// An incident's state before `sighting`, read again from its earlier messages (its state was let go at
        /// a resolved message).
        func reread(_ incidentId: String, before sighting: DeliverySighting) throws -> Incident? {
            let earlier = try DeliverySighting.Timeline(
                db, corpus: scenario.corpus, encoding: encoding, incidentId: incidentId)
            var state: Incident?
            while let (row, userSha256, _) = try earlier.next() {
                if row.deliveryId == sighting.deliveryId && row.source == sighting.source { break }
                _ = try advance(row, userSha256: userSha256, incident: &state)
            }
            return state
        }

        // The verdict on a planning without a reply (its call failed), the same for all.
        let noReply = judge.map { Judged(nil, judge: $0, dispatch: dispatch, planner: state?.planner) }
        // The targets of the deliveries whose decisions submit Workflows, read on this thread (the writer's is the
        // busier), a delivery once while it is remembered (a repeat comes back within hours): as the store keeps
        // them beside the delivery's digest, else (no digest stored) from its body.
        let bodies = deploys == nil ? nil : try DeliverySighting.BodyReader(db)
        var targetsByDelivery: [Int64: [DeployTimeline.Target]] = [:]
        func targets(
            of deliveryId: Int64, stored: String?, timeline: DeployTimeline
        ) throws -> [DeployTimeline.Target] {
            if let known = targetsByDelivery[deliveryId] { return known }
            if targetsByDelivery.count >= 65_536 { targetsByDelivery.removeAll(keepingCapacity: true) }
            let all =
                try stored.flatMap(DeployTimeline.targets(storedText:))
                ?? bodies?.withBody(of: deliveryId) { DeployTimeline.targets(body: $0) } ?? []
            let targets = all.filter(timeline.mayMatch)
            targetsByDelivery[deliveryId] = targets
            return targets
        }
        struct ReplyKey: Hashable {
            var user: ObjectIdentifier
            var index: Int
        }
        func flush() throws {
            if let judge {
                // Each reply is judged once, on every core: judging is a parse of every reply; writing is one core.
                var work: [(user: UserMessage, index: Int)] = []
                var queued = Set<ReplyKey>()
                for pending in batch {
                    guard let user = pending.user, let index = pending.replyIndex, user.judged[index] == nil,
                        queued.insert(ReplyKey(user: ObjectIdentifier(user), index: index)).inserted
                    else { continue }
                    work.append((user, index))
                }
                let verdicts = Self.judgeAll(
                    work.map { $0.user.replies![$0.index] }, judge: judge, dispatch: dispatch, planner: state?.planner)
                for (item, verdict) in zip(work, verdicts) {
                    item.user.judged[item.index] = verdict
                    // Its text is judged once: it is not held while the incident stays open.
                    item.user.replies![item.index].text = nil
                    item.user.replies![item.index].error = nil
                }
            }
            for position in batch.indices where rows[position].planned {
                let judged: Judged?
                if let user = batch[position].user, let index = batch[position].replyIndex {
                    judged = user.judged[index]
                } else {
                    judged = noReply
                }
                rows[position].judged = judged
                if let deploys, !deploys.deploys.isEmpty, judged?.submitsWorkflows == true {
                    rows[position].targets = try targets(
                        of: rows[position].message.deliveryId, stored: batch[position].storedTargets,
                        timeline: deploys)
                }
            }
            guard !rows.isEmpty else { return }
            try visit(rows, batchCalls)
            // The rows were handed over: the next batch gets an array of its own.
            rows = []
            rows.reserveCapacity(Self.batchSize)
            batch.removeAll(keepingCapacity: true)
            batchCalls.removeAll(keepingCapacity: true)
        }

        while let (sighting, userSha256, storedTargets) = try timeline.next() {
            guard let receivedAt = sighting.receivedAt else {
                throw PipelineError.noReceiveTimes(
                    corpus: scenario.corpus, missing: 1, total: 1, example: sighting.source)
            }
            let start = origin ?? receivedAt
            origin = start
            // A scenario's `limit` replays only some incidents: their messages alone, numbered among themselves.
            if let incidents, !(sighting.incidentId.map(incidents.contains) ?? false) { continue }
            var incident: Incident?
            let key = sighting.incidentId.map(IncidentKey.init)
            var wasOpen = false
            if let incidentId = sighting.incidentId, let key {
                incident = open[key]
                wasOpen = incident != nil
                if incident == nil, resolved.contains(key) {
                    incident = try reread(incidentId, before: sighting)
                }
            }
            let (kind, user, occurrence) = try advance(sighting, userSha256: userSha256, incident: &incident)
            if let key {
                if kind == .resolved {
                    // Its incident is over: its state is let go (a later message reads it again).
                    open[key] = nil
                    resolved.insert(key)
                } else if !wasOpen {
                    // (An open incident's state is a class: the message changed it in place.)
                    open[key] = incident
                }
            }
            let message = Message(
                seq: seq, deliveryId: sighting.deliveryId, source: sighting.source, receivedAt: receivedAt,
                productionTime: start + (receivedAt - start) * timeScale, incidentId: sighting.incidentId,
                kind: kind)
            seq += 1
            var row = Row(message: message, planned: user != nil, occurrence: occurrence, reply: nil, reused: false)
            var pending = Pending(storedTargets: storedTargets)
            if let user, let occurrence, let incidentId = sighting.incidentId {
                let (index, reused, call) = try reply(
                    user, of: incident!, occurrence: occurrence, incidentId: incidentId,
                    stored: (stored, byIncident), systemUTF8: systemUTF8,
                    in: db)
                pending.user = user
                pending.replyIndex = index
                row.reply = index.map { user.replies![$0].taken }
                row.reused = reused
                if let call { batchCalls[batch.count] = call }
            }
            rows.append(row)
            batch.append(pending)
            if batch.count == Self.batchSize { try flush() }
        }
        try flush()
    }

    /// How many messages are judged and given out together.
    private static let batchSize = 4096

    /// The reply a planning takes (an index into its user message's replies), whether it is reused, and — when
    /// recording — the call it needs.
    private func reply(
        _ user: UserMessage, of incident: Incident, occurrence: Int, incidentId: String,
        stored: (byMessage: ReplyRecord.EventReplies, byIncident: ReplyRecord.IncidentReplies),
        systemUTF8: [UInt8], in db: Database
    ) throws -> (index: Int?, reused: Bool, call: Call?) {
        if user.replies == nil {
            let replies: [Reply]
            switch scenario.match {
            case .sameEvent:
                // An incident's replies are read at once, on its first planning that needs one.
                if incident.replies == nil {
                    incident.replies = try stored.byIncident.sameEvent(incidentId: incidentId, systemSha256: systemUTF8)
                }
                // Taken out: the incident has one state per user message (`byDigest`), which holds them now.
                replies = incident.replies?.removeValue(forKey: user.sha256) ?? []
            case .exact:
                // Only an exact match asks for a request, and it needs the text.
                try ensureText(user, incidentId: incidentId, in: db)
                replies = try ReplyRecord.samples(
                    stored.byMessage, incidentId: incidentId, userSha256: user.sha256, scenario: scenario,
                    systemSha256: systemUTF8,
                    request: { request(user.text ?? "", userSha256: user.sha256, sample: $0) })
            }
            var contiguous = 0
            while contiguous < replies.count, replies[contiguous].sample == contiguous { contiguous += 1 }
            user.replies = replies
            user.contiguous = contiguous
            user.judged = Array(repeating: nil, count: replies.count)
        }
        let replies = user.replies!
        // The sample this planning takes: its occurrence, or that modulo the scenario's samples per message.
        let sample = settings.samples.map { occurrence % $0 } ?? occurrence
        if let index = replies.firstIndex(where: { $0.sample == sample }) {
            return (index, sample != occurrence, nil)
        }
        switch rule {
        case .reuse:
            guard user.contiguous > 0 else { return (nil, false, nil) }
            return (occurrence % user.contiguous, true, nil)  // sample n is at index n
        case .record(let covered):
            // A reused sample is called for by the planning that first takes it.
            guard sample == occurrence,
                !covered.contains(SampleRequest(userSha256: user.sha256, sample: occurrence))
            else { return (nil, false, nil) }
            try ensureText(user, incidentId: incidentId, in: db)
            return (
                nil, false,
                Call(incidentId: incidentId, request: request(user.text!, userSha256: user.sha256, sample: occurrence))
            )
        case .recorded:
            return (nil, false, nil)
        }
    }

    private func request(_ user: String, userSha256: String, sample: Int) -> ModelRequest {
        ModelRequest(
            provider: scenario.model.provider.rawValue, model: scenario.model.name, system: system, user: user,
            maxTokens: scenario.model.maxTokens, temperature: scenario.model.temperature,
            responseFormat: scenario.model.responseFormat, params: scenario.model.params, sample: sample,
            systemSha256: systemSha256, userSha256: userSha256)
    }

    /// A delivery's user message as the event of an incident: the stored digest alone when there is one, else
    /// the text encoded from its body.
    private func userMessage(
        deliveryId: Int64, incidentId: String, stored: String?, in db: Database
    ) throws -> (text: String?, sha256: String) {
        if let stored { return (nil, stored) }
        let message = try Self.encode(deliveryId: deliveryId, incidentId: incidentId, in: db)
        return (message.user, message.sha256)
    }

    /// Gives a user message its text (a request needs it).
    private func ensureText(_ user: UserMessage, incidentId: String, in db: Database) throws {
        guard user.text == nil else { return }
        user.text = try Self.encode(deliveryId: user.deliveryId, incidentId: incidentId, in: db).user
    }

    private static func encode(
        deliveryId: Int64, incidentId: String, in db: Database
    ) throws -> (user: String, sha256: String) {
        guard let body = try DeliverySighting.body(db, deliveryId: deliveryId) else {
            throw IncidentError.unknown(incidentId)
        }
        return try IncidentEvents.userMessages(bodies: [body], incidentIds: [incidentId])[0].get()
    }

    /// The verdicts on replies, on every core.
    private static func judgeAll(
        _ replies: [Reply], judge: Judge, dispatch: SensorDispatch?, planner: WorkflowPlanner?
    ) -> [Judged] {
        var verdicts = [Judged?](repeating: nil, count: replies.count)
        verdicts.withUnsafeMutableBufferPointer { buffer in
            // Each thread writes its own indices (thread, thread + threads, …) only.
            nonisolated(unsafe) let output = buffer
            let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, replies.count / 256))
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var index = thread
                while index < replies.count {
                    output[index] = Judged(replies[index], judge: judge, dispatch: dispatch, planner: planner)
                    index += threads
                }
            }
        }
        return verdicts.map { $0! }
    }
}

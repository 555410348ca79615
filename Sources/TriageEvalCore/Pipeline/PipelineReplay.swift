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
/// It works in two steps: ``prepare(scenario:settings:planner:sightings:timeScale:incidents:rule:in:)`` orders
/// the messages and finds every planned message's reply — or, when recording, lists the calls to make — before a
/// run is created (so a corpus without receive times, or a missing reply, fails before anything is stored); and
/// ``write(runId:judge:progress:in:)`` judges them and stores one `pipelineMessage` row each, after the run's
/// calls — again on a resume, since it is deterministic.
package struct PipelineReplay: Sendable {
    /// One message with the reply it takes.
    struct Planned: Sendable {
        var message: Message
        var planned: Bool
        /// Which planning of its user message it is (0 for the first), for a planned message.
        var occurrence: Int?
        /// The reply it takes, as an index into ``replies``.
        var reply: Int32?
        var reused: Bool
    }

    /// A stored reply as the replay uses it.
    struct Reply: Sendable {
        var id: Int64
        var sample: Int
        var text: String?
        var error: String?
        var inputTokens: Int?
        var outputTokens: Int?
    }

    /// The messages, in receive order.
    private(set) var messages: [Planned]

    /// The replies read for the messages, each once.
    private(set) var replies: [Reply] = []

    /// The corpus's time scale.
    private(set) var timeScale: Double

    /// A planned message whose user message has no stored reply at all.
    package struct Missing: Sendable, Equatable {
        package var seq: Int
        package var incidentId: String
        package var kind: MessageKind
    }

    /// Planned messages without any reply (the run cannot replay them from the cache).
    private(set) var missing: [Missing]

    /// A call the replay needs (``ReplyRule/record(covered:)``): a planning whose sample is not stored.
    package struct Call: Sendable {
        package var incidentId: String
        package var request: ModelRequest
    }

    /// The calls to make before the replay can be written (`cache: record`).
    private(set) var calls: [Call] = []

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

    /// How many messages there are.
    package var count: Int { messages.count }

    /// How many messages production plans.
    package var plannedCount: Int { messages.count { $0.planned } }

    /// Orders the messages and finds each planned message's reply.
    /// - Parameters:
    ///   - scenario: the run's scenario (its model and match mode).
    ///   - settings: its `pipeline:` section.
    ///   - planner: the run's planner (the system prompt of every request).
    ///   - sightings: the corpus's delivery sightings.
    ///   - timeScale: the corpus's time scale.
    ///   - incidents: the incidents replayed (a scenario's `limit`), nil for all.
    ///   - rule: which reply each planning takes.
    ///   - db: a connection.
    /// - Throws: ``PipelineError``, ``PlannerError``, database errors.
    static func prepare(
        scenario: Scenario, settings: PipelineSettings, planner: Planner, sightings: [DeliverySighting],
        timeScale: Double, incidents: Set<String>?, rule: ReplyRule, in db: Database
    ) throws -> PipelineReplay {
        var timeline = try MessageTimeline.messages(sightings, corpus: scenario.corpus, timeScale: timeScale)
        if let incidents {
            // A scenario's `limit` replays only some incidents: their messages alone, renumbered.
            timeline = timeline.filter { $0.incidentId.map(incidents.contains) ?? false }
            for index in timeline.indices { timeline[index].seq = index }
        }
        let system = planner.systemPrompt
        let systemSha256 = Digest.sha256Hex(system)
        /// Per delivery: its user message's SHA-256, the samples stored for it by number, and how many of them
        /// are stored from sample 0 without a gap; the user message itself only when recording (a corpus's user
        /// messages are most of the replay's memory otherwise).
        struct Event {
            var userSha256: String
            /// One per sample, in sample order: indices into `table`.
            var replies: [Int32]
            var contiguous: Int
            var user: String?
        }
        var table: [Reply] = []
        func reply(_ event: Event, sample: Int) -> Int32? { event.replies.first { table[Int($0)].sample == sample } }
        func request(_ user: String, userSha256: String, sample: Int) -> ModelRequest {
            ModelRequest(
                provider: scenario.model.provider.rawValue, model: scenario.model.name, system: system,
                user: user, maxTokens: scenario.model.maxTokens, temperature: scenario.model.temperature,
                responseFormat: scenario.model.responseFormat, params: scenario.model.params, sample: sample,
                systemSha256: systemSha256, userSha256: userSha256)
        }
        let recording = if case .record = rule { true } else { false }
        let stored = try ReplyRecord.EventReplies(db)
        let systemUTF8 = Array(systemSha256.utf8)
        var users = UserMessages(
            timeline.filter { $0.incidentId != nil && settings.plan.contains($0.kind) },
            digests: usesDigests(scenario: scenario, rule: rule)
                ? try DeliveryEventRecord.Lookup(db, encoding: Planner.userMessageEncoding) : nil)
        var calls: [Call] = []
        var events: [Int64: Event] = [:]
        events.reserveCapacity(users.deliveryCount)
        var occurrences: [String: Int] = [:]
        var messages: [Planned] = []
        var missing: [Missing] = []
        messages.reserveCapacity(timeline.count)
        for message in timeline {
            guard let incidentId = message.incidentId, settings.plan.contains(message.kind) else {
                messages.append(Planned(message: message, planned: false, occurrence: nil, reply: nil, reused: false))
                continue
            }
            let event: Event
            if let known = events[message.deliveryId] {
                event = known
            } else {
                let (user, userSha256) = try users.take(message.deliveryId, in: db)
                let replies = try ReplyRecord.samples(
                    stored, incidentId: incidentId, userSha256: userSha256, scenario: scenario,
                    systemSha256: systemUTF8,
                    // Only an exact match asks for a request, and it always has the text (``usesDigests``).
                    request: { request(user ?? "", userSha256: userSha256, sample: $0) })
                var contiguous = 0
                while contiguous < replies.count, replies[contiguous].sample == contiguous { contiguous += 1 }
                let indices = replies.indices.map { Int32(table.count + $0) }
                table.append(contentsOf: replies)
                event = Event(
                    userSha256: userSha256, replies: indices, contiguous: contiguous, user: recording ? user : nil)
                events[message.deliveryId] = event
            }
            let occurrence = occurrences[event.userSha256, default: 0]
            occurrences[event.userSha256] = occurrence + 1
            var planned = Planned(message: message, planned: true, occurrence: occurrence, reply: nil, reused: false)
            // The sample this planning takes: its occurrence, or that modulo the scenario's samples per message.
            let sample = settings.samples.map { occurrence % $0 } ?? occurrence
            if let reply = reply(event, sample: sample) {
                planned.reply = reply
                planned.reused = sample != occurrence
            } else {
                switch rule {
                case .reuse:
                    if event.contiguous > 0 {
                        planned.reply = event.replies[occurrence % event.contiguous]  // sample n is at n
                        planned.reused = true
                    } else {
                        missing.append(Missing(seq: message.seq, incidentId: incidentId, kind: message.kind))
                    }
                case .record(let covered):
                    // A reused sample is called for by the planning that first takes it.
                    if sample == occurrence
                        && !covered.contains(SampleRequest(userSha256: event.userSha256, sample: occurrence))
                    {
                        calls.append(
                            Call(
                                incidentId: incidentId,
                                request: request(event.user!, userSha256: event.userSha256, sample: occurrence)))
                    }
                case .recorded:
                    break
                }
            }
            messages.append(planned)
        }
        var replay = PipelineReplay(messages: messages, timeScale: timeScale, missing: missing)
        replay.replies = table
        replay.calls = calls
        return replay
    }

    /// Whether ``prepare(scenario:settings:planner:sightings:timeScale:incidents:rule:in:)`` finds replies by the
    /// user-message digests the store keeps (``UserMessageDigests``, brought up to date first): all but a recording
    /// (its calls need the text) and an exact match (its request keys need the text) do.
    static func usesDigests(scenario: Scenario, rule: ReplyRule) -> Bool {
        if case .record = rule { return false }
        return scenario.match == .sameEvent
    }

    /// Judges every planned message and stores one `pipelineMessage` row per message, replacing the run's rows.
    func write(runId: String, judge: Judge, progress: Progress? = nil, in db: Database) throws {
        /// What the judge makes of a reply: the same for every message that takes it (no label is involved).
        struct Judged {
            var outcome: String
            var failureClass: String
            var productionRoute: String
            var route: String
            var routeReason: String
            var decisionIncidentId: String?
            var confidence: Double?
            var actionNames: String?
        }
        @Sendable func judged(_ reply: Reply?) -> Judged {
            // No reply: its call failed (`cache: record`); a resume calls again.
            let judgement = judge.judge(
                reply.map { $0.text.map(Judge.Reply.text) ?? .transportFailure($0.error ?? "no reply text") }
                    ?? .transportFailure("the call failed"), label: nil)
            let decision = judgement.decision
            return Judged(
                outcome: judgement.verdict?.outcome.rawValue ?? "no_reply",
                failureClass: judgement.failureClass.rawValue,
                productionRoute: judgement.productionRoute.route.rawValue,
                route: judgement.finalRoute.route.rawValue, routeReason: judgement.finalRoute.reason.rawValue,
                decisionIncidentId: decision?.incidentId, confidence: decision?.confidence,
                actionNames: decision.map { PythonJSONEncoder.string(list: $0.actions.map(\.name)) })
        }
        // A repeat takes the reply of an earlier planning: each reply is judged once, the replies on every core
        // before the rows are written (judging is a parse of every reply; writing is one core, in SQLite).
        let replies = self.replies
        var judgedReplies = [Judged?](repeating: nil, count: replies.count)
        judgedReplies.withUnsafeMutableBufferPointer { buffer in
            // Each thread writes its own indices (thread, thread + threads, …) only.
            nonisolated(unsafe) let output = buffer
            let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, replies.count / 256))
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var index = thread
                while index < replies.count {
                    output[index] = judged(replies[index])
                    index += threads
                }
            }
        }
        let insert = try PipelineMessageRecord.replaceRun(db, runId: runId, timeScale: timeScale)
        var texts = RawStatement.Texts()
        for planned in messages {
            let message = planned.message
            texts.removeAll()
            texts.add(1, runId)
            insert.bind(2, Int64(message.seq))
            insert.bind(3, message.deliveryId)
            texts.add(4, message.source)
            insert.bind(5, message.receivedAt as Double?)
            insert.bind(6, message.productionTime as Double?)
            texts.add(7, message.incidentId)
            texts.add(8, message.kind.rawValue)
            insert.bind(9, planned.planned)
            insert.bind(10, planned.occurrence.map(Int64.init))
            let reply = planned.reply.map { replies[Int($0)] }
            insert.bind(11, reply.map { Int64($0.sample) })
            insert.bind(12, planned.reused)
            insert.bind(13, reply?.id)
            if planned.planned {
                let judgement = planned.reply.map { judgedReplies[Int($0)]! } ?? judged(nil)
                texts.add(14, judgement.outcome)
                texts.add(15, judgement.failureClass)
                texts.add(16, judgement.productionRoute)
                texts.add(17, judgement.route)
                texts.add(18, judgement.routeReason)
                texts.add(19, judgement.decisionIncidentId)
                insert.bind(20, judgement.confidence)
                texts.add(21, judgement.actionNames)
                insert.bind(22, reply?.inputTokens.map(Int64.init))
                insert.bind(23, reply?.outputTokens.map(Int64.init))
            }
            // Unbound columns of an unplanned message stay NULL (the statement clears its bindings after a run).
            try insert.run(texts: texts)
            if message.seq % 1024 == 1023 { progress?.advance(by: 1024) }
        }
        progress?.advance(by: messages.count % 1024)
        progress?.finish(note: "\(plannedCount) planned")
    }
}

/// The user message (and its SHA-256) of each delivery planned messages carry. With the store's digests
/// (``UserMessageDigests``), only the SHA-256 is read, and a delivery without one is encoded alone. Without them,
/// the messages are computed a window of a few thousand deliveries ahead, in the order they are first needed, on
/// every core: parsing each event and writing it as `json.dumps` does is most of the preparation's time then. Each
/// text is handed out once and then let go, so that memory holds one window, not the corpus.
private struct UserMessages {
    private var incidents: [Int64: String] = [:]
    private var order: [Int64] = []
    private var next = 0
    private var ready: [Int64: (user: String, sha256: String)] = [:]
    private let digests: DeliveryEventRecord.Lookup?

    /// How many deliveries the messages carry.
    var deliveryCount: Int { incidents.count }

    init(_ messages: [Message], digests: DeliveryEventRecord.Lookup?) {
        self.digests = digests
        for message in messages where incidents[message.deliveryId] == nil {
            incidents[message.deliveryId] = message.incidentId
            if digests == nil { order.append(message.deliveryId) }
        }
    }

    /// The user message of a delivery (each asked for once, in the order of the messages given): its text is nil
    /// when only its stored digest was read.
    /// - Throws: ``PlannerError/eventNotJSON(incidentId:reason:)``, ``IncidentError``, database errors.
    mutating func take(_ deliveryId: Int64, in db: Database) throws -> (user: String?, sha256: String) {
        if let digests {
            guard let incidentId = incidents[deliveryId] else { throw IncidentError.unknown("\(deliveryId)") }
            if let sha256 = try digests.userSha256(deliveryId: deliveryId, incidentId: incidentId) {
                return (nil, sha256)
            }
            guard let body = try DeliverySighting.body(db, deliveryId: deliveryId) else {
                throw IncidentError.unknown(incidentId)
            }
            let message = try IncidentEvents.userMessages(bodies: [body], incidentIds: [incidentId])[0].get()
            return (message.user, message.sha256)
        }
        if ready[deliveryId] == nil { try computeWindow(in: db) }
        guard let user = ready.removeValue(forKey: deliveryId) else { throw IncidentError.unknown("\(deliveryId)") }
        return (user.user, user.sha256)
    }

    private mutating func computeWindow(in db: Database) throws {
        let ids = Array(order[next..<min(next + 4096, order.count)])
        next += ids.count
        let bodies = try ids.map { id in
            guard let body = try DeliverySighting.body(db, deliveryId: id) else {
                throw IncidentError.unknown(incidents[id]!)
            }
            return body
        }
        let results = IncidentEvents.userMessages(bodies: bodies, incidentIds: ids.map { incidents[$0]! })
        for (id, result) in zip(ids, results) { ready[id] = try result.get() }
    }
}

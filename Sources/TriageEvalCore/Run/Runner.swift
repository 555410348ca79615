import Foundation
import GRDB
import Synchronization

/// A flag set from a signal handler to ask a run to stop launching calls (Ctrl-C); the run can be resumed.
package final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)
    private let armed = Atomic<Bool>(false)

    package init() {}

    /// Marks the point from which a stop is honoured gracefully (calls in flight finish, the run can resume):
    /// the replay has begun. Before it (loading the scenario, catalog, labels and corpus), there is nothing to
    /// finish, and an interrupt ends the process at once.
    package func arm() { armed.store(true, ordering: .relaxed) }

    /// Whether the replay has begun (see ``arm()``).
    package var isArmed: Bool { armed.load(ordering: .relaxed) }

    /// Asks the run to stop.
    package func request() { flag.store(true, ordering: .relaxed) }

    /// Whether a stop was asked for.
    package var isRequested: Bool { flag.load(ordering: .relaxed) }
}

/// Runs a scenario: every labelled incident × sample through production's planner, a model (cached or live),
/// production's validator and router and the strict policy, scored against its label, one stored result each.
///
/// Replies come from the response cache (``CacheMode``, found by request or event key, ``MatchMode``) or from
/// live calls made with bounded concurrency, client-side rate limits and retries. Every result is stored as soon
/// as it is known, so an interrupted run (Ctrl-C, `kill -9`, a dead network) continues with
/// ``resume(runId:)`` and ends with exactly one result per (incident, sample).
package struct Runner: Sendable {
    /// The store.
    package var store: Store
    /// How progress is shown.
    package var progressStyle: Progress.Style
    /// The HTTP client for live calls (nil: a ``CurlHTTPClient`` per run).
    package var client: (any HTTPClient)?
    /// The environment the API key is read from.
    package var environment: [String: String]
    /// Set to stop launching calls.
    package var stop: StopRequest
    /// Where the run's id, start and finish times come from.
    package var clock: RunClock
    /// Whether a lease another host left is taken over (``RunLease``): a shard continuing its run on a pod's retry.
    var takesOverOtherHostsLease = false

    package init(
        store: Store, progressStyle: Progress.Style = .silent, client: (any HTTPClient)? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, stop: StopRequest = StopRequest(),
        clock: RunClock = .system
    ) {
        self.store = store
        self.progressStyle = progressStyle
        self.client = client
        self.environment = environment
        self.stop = stop
        self.clock = clock
    }

    /// What a run did.
    package struct Outcome: Sendable {
        package var runId: String
        package var corpus: CorpusLoader.Summary
        package var results: Int
        package var cacheHits: Int
        package var calls: Int
    }

    /// One (incident, sample) to judge.
    struct WorkItem: Sendable {
        var label: Label
        var sample: Int
        /// The request; in a replay that matches by user message (`cache: replay`, `same-event`), which makes no
        /// call, its user message is left empty and only its digest is set (``Runner/workItems``).
        var request: ModelRequest
        /// Whether the run holds a transport failure for this sample, which the new result replaces (resume).
        var replacesTransportFailure = false
        /// A call the pipeline replay needs (a later planning of a message, or a message other than the first):
        /// its reply is stored, with no incident result; `label` then only names the incident.
        var recordsOnly = false
        /// The request key (computed when an exact lookup or a live call needs it).
        var requestSha256: String { request.requestSha256 }
    }

    /// A stored reply found for an item.
    struct CachedReply: Sendable {
        var id: Int64
        var text: String?
        var error: String?
        /// Recorded under another system prompt (a `same-event` reuse).
        var stale: Bool
        /// Whether the result counts as a cache hit: false only for a reply a shard of a merged run called for.
        var cacheHit = true
    }

    /// Everything that stays the same across the items of a run.
    struct Context: Sendable {
        var runId: String
        var scenario: Scenario
        var judge: Judge

        /// Judges an item's reply and makes its record.
        func result(
            _ item: WorkItem, reply: Judge.Reply, replyId: Int64?, cacheHit: Bool, stale: Bool
        ) -> ResultRecord {
            ResultRecord(
                runId: runId, label: item.label, sample: item.sample,
                judgement: judge.judge(reply, label: item.label), replyId: replyId, cacheHit: cacheHit, stale: stale,
                replacesEarlier: item.replacesTransportFailure)
        }
    }

    // MARK: - Entry points

    /// Starts a new run of a scenario.
    /// - Throws: ``RunError`` and the errors of loading the scenario's files.
    package func run(_ scenario: Scenario) async throws -> Outcome {
        // A regression gate needs its baseline: without one the run would be replayed only to fail.
        for (reference, gate) in Gates.baselineReferences(scenario.gates) {
            _ = try Gates.baselineRun(reference, excluding: nil, gate: gate, store: store)
        }
        let corpus = try CorpusLoader(store: store, progressStyle: progressStyle)
            .load(directory: scenario.corpusDirectory, provider: scenario.model.provider.rawValue)
        // The pipeline replay's census is counted while the incident replay is prepared: from the start when the
        // corpus's digests are stored (a rerun), else once the labels and the catalog are known to be good (a
        // set-up error does not wait for a corpus's digests to be computed and stored).
        let storedCensus = try pipelineCensus(scenario, storingDigests: false)
        let (planner, labels, corpusIncidents) = try prepare(scenario)
        let census = try storedCensus ?? pipelineCensus(scenario, storingDigests: true)
        let items = try workItems(scenario: scenario, planner: planner, labels: Self.replayed(labels, scenario))
        let started = Date()
        let cached = try lookUp(items, scenario: scenario, systemSha256: Digest.sha256Hex(planner.systemPrompt))
        try Self.checkReplayed(items, cached: cached, scenario: scenario)
        let pipeline = try pipelineReplay(scenario, planner: planner, labels: labels, items: items, census: census)
        let calls = pipelineCalls(pipeline)
        let runId = try createRun(
            scenario: scenario, planner: planner, labels: labels, corpusIncidents: corpusIncidents)
        return try await withLease(runId: runId) {
            try await execute(
                runId: runId, scenario: scenario, planner: planner, items: items + calls,
                cached: cached + calls.map { _ in nil }, corpus: corpus, started: started,
                expectedResults: Self.replayed(labels, scenario).count * scenario.samples
            ) {
                try writePipeline(pipeline, runId: runId, scenario: scenario, planner: planner)
            }
        }
    }

    /// Continues an interrupted run — or retries a complete run's transport failures: judges every
    /// (incident, sample) without a result, and retries those whose call failed in transport (the new result
    /// replaces the failure).
    /// - Throws: ``RunError``.
    package func resume(runId: String) async throws -> Outcome {
        let run = try await store.queue.read { db in try RunRecord.find(db, id: runId) }
        // A complete run has a result for every sample; its transport failures (a dead network, an outage that
        // outlasted the retries) can still be retried.
        if run.status == "complete" {
            let failures = try await store.queue.read { db in
                try ResultRecord.transportFailureCount(db, runId: runId)
                    + PipelineMessageRecord.transportFailureCount(db, runId: runId)
            }
            if failures == 0 { throw RunError.alreadyComplete(runId) }
        }
        let file = try Scenario.load(path: run.scenarioPath)
        guard file.text == run.scenarioText else {
            throw RunError.scenarioChanged(runId: runId, path: run.scenarioPath)
        }
        // The run's own cache mode, which a command-line override may have set, and its own shard.
        let scenario = file.with(cache: CacheMode(rawValue: run.cacheMode) ?? file.cache)
            .with(shard: run.shard.flatMap(Shard.init))
        let storedCensus = try pipelineCensus(scenario, storingDigests: false)
        let (planner, labels, _) = try prepare(scenario)
        // The run is judged against the labels it started with: resuming against edited labels would mix two.
        let labelDigest = Label.setDigest(labels, corpus: scenario.corpus)
        let unchanged = try await store.queue.read { db in
            try LabelSetRecord.fetchOne(db, key: run.labelSetId)?.sha256 == labelDigest
        }
        guard unchanged else { throw RunError.labelsChanged(runId: runId, corpus: scenario.corpus) }
        let census = try storedCensus ?? pipelineCensus(scenario, storingDigests: true)
        let stored = try await store.queue.read { db in try ResultRecord.failureClasses(db, runId: runId) }
        let items = try workItems(scenario: scenario, planner: planner, labels: Self.replayed(labels, scenario))
            .compactMap { item -> WorkItem? in
                guard let failureClass = stored[item.key] else { return item }
                guard failureClass == .transport else { return nil }
                var item = item
                item.replacesTransportFailure = true
                return item
            }
        let started = Date()
        let cached = try lookUp(items, scenario: scenario, systemSha256: Digest.sha256Hex(planner.systemPrompt))
        try Self.checkReplayed(items, cached: cached, scenario: scenario)
        let pipeline = try pipelineReplay(scenario, planner: planner, labels: labels, items: items, census: census)
        let calls = pipelineCalls(pipeline)
        return try await withLease(runId: runId) {
            try await execute(
                runId: runId, scenario: scenario, planner: planner, items: items + calls,
                cached: cached + calls.map { _ in nil }, corpus: CorpusLoader.Summary(), started: started,
                expectedResults: Self.replayed(labels, scenario).count * scenario.samples
            ) {
                try writePipeline(pipeline, runId: runId, scenario: scenario, planner: planner)
            }
        }
    }

    // MARK: - Preparation

    /// A replay (`cache: replay`) calls no model: every item must have a stored reply.
    /// - Throws: ``RunError/missingReplies(model:match:missing:total:)``.
    static func checkReplayed(_ items: [WorkItem], cached: [CachedReply?], scenario: Scenario) throws {
        guard scenario.cache == .replay else { return }
        let missing = zip(items, cached).filter { $0.1 == nil }.map(\.0)
        if !missing.isEmpty {
            throw RunError.missingReplies(
                model: scenario.model.name, match: scenario.match.rawValue,
                missing: missing.map { "\($0.label.incidentId) sample \($0.sample)" }, total: items.count)
        }
    }

    /// What the pipeline replay counts of the corpus before it starts
    /// (``DeliverySighting/census(store:corpus:encoding:provider:model:)``), counted in the background while the
    /// incident replay is prepared; nil without a `pipeline:` section, or in a cache mode the replay refuses. The
    /// census reads the store's user-message digests: with `storingDigests` they are brought up to date first,
    /// else it is nil when some are missing.
    func pipelineCensus(_ scenario: Scenario, storingDigests: Bool) throws -> Census? {
        guard scenario.pipeline != nil, scenario.cache == .replay || scenario.cache == .record else { return nil }
        if storingDigests {
            try UserMessageDigests.update(store: store, corpus: scenario.corpus, progressStyle: progressStyle)
        } else if try !UserMessageDigests.stored(store: store, corpus: scenario.corpus) {
            return nil
        }
        return try DeliverySighting.census(
            store: store, corpus: scenario.corpus, encoding: Planner.userMessageEncoding,
            provider: scenario.model.provider.rawValue, model: scenario.model.name)
    }

    /// A corpus's census, being counted.
    typealias Census = BackgroundWork<(sightings: Int, withoutFirstSample: Int)>

    /// The scenario's pipeline replay, with every planned message's reply found (`cache: replay`) or the calls
    /// it needs listed (`cache: record`); nil without a `pipeline:` section.
    /// - Parameters:
    ///   - items: the incident replay's items, whose requests the pipeline replay never calls again.
    ///   - census: ``pipelineCensus(_:storingDigests:)``.
    /// - Throws: ``PipelineError`` (no receive times), ``RunError/missingMessageReplies(model:match:missing:planned:)``.
    func pipelineReplay(
        _ scenario: Scenario, planner: Planner, labels: [Label], items: [WorkItem], census: Census?
    ) throws -> PipelineReplay? {
        guard let settings = scenario.pipeline else { return nil }
        let rule: PipelineReplay.ReplyRule
        switch scenario.cache {
        case .replay: rule = .reuse
        case .record:
            rule = .record(
                covered: Set(items.map { .init(userSha256: $0.request.userSha256, sample: $0.sample) }))
        case .refresh, .off: throw RunError.pipelineCacheMode(scenario.cache.rawValue)
        }
        let replay = try pipelineReplay(
            scenario, settings: settings, planner: planner, labels: labels, rule: rule,
            census: try census?.value() ?? pipelineCensus(scenario, storingDigests: true)?.value())
        if !replay.missing.isEmpty {
            throw RunError.missingMessageReplies(
                model: scenario.model.name, match: scenario.match.rawValue,
                missing: replay.missing.map { "message \($0.seq) (\($0.kind.rawValue)) of \($0.incidentId)" },
                planned: replay.plannedCount ?? replay.missing.count)
        }
        return replay
    }

    private func pipelineReplay(
        _ scenario: Scenario, settings: PipelineSettings, planner: Planner, labels: [Label],
        rule: PipelineReplay.ReplyRule, census: (sightings: Int, withoutFirstSample: Int)?
    ) throws -> PipelineReplay {
        let timeScale = try CorpusSettings.load(directory: scenario.corpusDirectory).timeScale
        // The manifests are read before a run is stored: a bad one is a set-up error naming its file and line.
        let dispatch =
            settings.manifests.isEmpty
            ? nil : SensorDispatch(manifests: try PipelineManifests.load(paths: settings.manifests))
        let state = try Self.stateRules(
            settings, scenario: scenario, catalog: planner.catalog, dispatch: dispatch, labels: labels)
        return try store.queue.read { db in
            // The incidents whose messages are planned: all; under a limit, the limited run's; in a shard, the
            // shard's — every incident of the corpus that hashes to it, labelled or not (production plans
            // every message, and the merge replays them all).
            var incidents: Set<String>? = nil
            if scenario.limit != nil {
                incidents = Set(Self.replayed(labels, scenario).map(\.incidentId))
            } else if let shard = scenario.shard {
                incidents = try IncidentRecord.allIds(db).filter(shard.contains)
            }
            return try PipelineReplay.prepare(
                scenario: scenario, settings: settings, planner: planner, timeScale: timeScale,
                incidents: incidents, rule: rule, dispatch: dispatch, state: state, census: census, in: db)
        }
    }

    /// The pipeline's state rules as the scenario sets them, with the deploy timeline read (the scenario's
    /// `pipeline.deploys.file`, else the corpus's `deploys.jsonl` when it has one).
    /// - Throws: ``ConfigError`` for a deploy timeline that cannot be read.
    static func stateRules(
        _ settings: PipelineSettings, scenario: Scenario, catalog: Catalog, dispatch: SensorDispatch?,
        labels: [Label]
    ) throws -> PipelineReplay.StateRules {
        let rules = settings.rules
        let corpusTimeline = (scenario.corpusDirectory as NSString).appendingPathComponent(
            DeployTimeline.corpusFileName)
        let path =
            rules.deploysFile ?? (FileManager.default.fileExists(atPath: corpusTimeline) ? corpusTimeline : nil)
        let deploys = try path.map { path in
            DeploySuppression(
                timeline: try DeployTimeline.load(path: path), window: rules.deployWindow, anchor: rules.deployAnchor,
                suppress: rules.suppress)
        }
        return PipelineReplay.StateRules(
            planner: WorkflowPlanner(catalog: catalog, dispatch: dispatch, duration: rules.duration),
            rules: PipelineSimulation.Rules(
                idempotency: rules.idempotency, keyTemplate: rules.keyTemplate, keyTTL: rules.keyTTL,
                deploys: deploys, limit: rules.limit, namespaceLimit: rules.namespaceLimit,
                approvals: ApprovalDesk(approver: rules.approver, ttl: rules.approvalTTL, after: rules.approvalAfter)),
            labels: Dictionary(labels.map { ($0.incidentId, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The calls a recording pipeline replay makes, as items that store a reply and no incident result.
    private func pipelineCalls(_ replay: PipelineReplay?) -> [WorkItem] {
        (replay?.calls ?? []).map { call in
            var item = WorkItem(
                label: Label(
                    incidentId: call.incidentId, expect: .none, actions: [], forbidden: [], note: nil,
                    source: "pipeline replay"),
                sample: call.request.sample, request: call.request)
            item.recordsOnly = true
            return item
        }
    }

    /// Judges and stores the pipeline replay's messages, once the run's calls are done: a replay as prepared, a
    /// recording read again with the replies it recorded (a failed call's message is a transport failure).
    ///
    /// A shard (`run --shard`) only gets the replies of its incidents' messages: the state rules couple incidents
    /// over time (idempotency keys, deploys, the parallelism queue, approvals, the audit chain), so they run once,
    /// in the merge, over every message in time order.
    func writePipeline(
        _ replay: PipelineReplay?, runId: String, scenario: Scenario, planner: Planner
    ) throws {
        guard var replay else { return }
        if scenario.shard != nil {
            // The shard is done only when every call its messages needed has a reply: a failed one (nothing is
            // stored for it) leaves the run unfinished, for the same command to continue.
            let unrecorded = try unrecordedCalls(replay)
            if unrecorded > 0 { throw RunError.unrecordedCalls(runId: runId, count: unrecorded) }
            return
        }
        if scenario.cache == .record { replay = replay.afterRecording() }
        let judge = Judge(catalog: planner.catalog, threshold: scenario.threshold, approvalGate: scenario.approvalGate)
        let progress = Progress(
            label: "pipeline \(runId)", total: replay.count, unit: "messages", style: progressStyle)
        // Every row refers to the run, a delivery, an incident and a reply the replay read from this store a moment
        // ago, so their foreign keys are not checked row by row: those four lookups per message (a million for a
        // large corpus) were most of the write. (The pragma cannot change inside a transaction.) Nor are the tables'
        // CHECK constraints: each value they check comes from a Swift enum, and SQLite 3.40 evaluates a
        // `kind IN ('first', …)` check by building a temporary index of the list for every row (a B-tree opened,
        // filled and freed per insert: a fifth of the writing thread's time at a million messages).
        // Neither its commit nor the run's last small ones copy the log into the file (SQLite's automatic checkpoint,
        // seconds for a large replay, on the committing thread): the command does that while it writes the reports
        // (``Store/checkpoint(during:)``, which turns the automatic checkpoint back on).
        // The replay appends rows and reads the messages in one pass: a small page cache on each connection serves
        // it as well as the store's usual 64 MiB, which would fill up over a large replay (memory that grew with the
        // messages).
        let reader = try store.reader(cacheKiB: Store.scanCacheKiB)
        try store.queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            // (An in-memory store's pages are its data: its cache stays as it is.)
            let file = reader != nil
            if file { try db.execute(sql: "PRAGMA cache_size = -\(Store.scanCacheKiB)") }
            try Store.suspendAutomaticCheckpoints(db)
            defer {
                if file { try? db.execute(sql: "PRAGMA cache_size = -\(Store.lookupCacheKiB)") }
                try? db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
                try? db.execute(sql: "PRAGMA foreign_keys = ON")
            }
            try db.inTransaction {
                try replay.write(runId: runId, judge: judge, progress: progress, reader: reader, in: db)
                return .commit
            }
        }
    }

    /// The run's planner, its labels, and how many incidents its corpus has (its run record keeps the count).
    func prepare(_ scenario: Scenario) throws -> (planner: Planner, labels: [Label], corpusIncidents: Int) {
        let catalog = try Catalog.load(path: scenario.catalogPath)
        let template = try scenario.templatePath.map { try Planner.loadTemplate(path: $0) } ?? Planner.seedTemplate
        let planner = Planner(catalog: catalog, template: template)
        let labelsPath = (scenario.corpusDirectory as NSString).appendingPathComponent("labels.yaml")
        guard FileManager.default.fileExists(atPath: labelsPath) else {
            throw RunError.noLabels(corpus: scenario.corpus, path: labelsPath)
        }
        let knownIncidents = try store.queue.read(IncidentRecord.allIds)
        let (facts, readLabels) = try store.queue.read { db in
            try IncidentFacts.fetchDeferred(corpus: scenario.corpus, in: db)
        }
        // The incidents' labels are read from their bodies only where the label file looks at them.
        let labels = try LabelFile.load(
            path: labelsPath, catalog: catalog, incidents: facts, knownIncidents: knownIncidents,
            labels: { positions in try store.queue.read { db in try readLabels(positions, db) } }
        ).labels
        // The facts are the corpus's incidents: every delivery's incident has its row (a foreign key).
        return (planner, labels, facts.count)
    }

    /// The labelled incidents a run replays: all of them, or the first `limit` by id; of those, a shard's
    /// (``Shard``), so that the shards of a limited run make up the limited run. (Every label is stored with the
    /// run, so the report counts the corpus's labels whatever the limit.)
    static func replayed(_ labels: [Label], _ scenario: Scenario) -> [Label] {
        let limited = scenario.limit.map { Array(labels.prefix($0)) } ?? labels
        guard let shard = scenario.shard else { return limited }
        return limited.filter { shard.contains($0.incidentId) }
    }

    func workItems(scenario: Scenario, planner: Planner, labels: [Label]) throws -> [WorkItem] {
        let system = planner.systemPrompt
        let systemSha256 = Digest.sha256Hex(system)
        var items: [WorkItem] = []
        items.reserveCapacity(labels.count * scenario.samples)
        let ids = labels.map(\.incidentId)
        // A replay that matches replies by user message makes no call and needs no request key: the digest the
        // store keeps finds each reply, and no user message is encoded or held (a large corpus's texts are most of
        // a run's memory otherwise). A call needs the text, and an exact match the whole request.
        let users: [(user: String, sha256: String)] =
            scenario.cache == .replay && scenario.match == .sameEvent
            ? try UserMessageDigests.incidents(store: store, incidentIds: ids).map { ("", $0) }
            : try IncidentEvents.userMessages(store: store, incidentIds: ids)
        for (label, (user, userSha256)) in zip(labels, users) {
            for sample in 0..<scenario.samples {
                let request = ModelRequest(
                    provider: scenario.model.provider.rawValue, model: scenario.model.name, system: system, user: user,
                    maxTokens: scenario.model.maxTokens, temperature: scenario.model.temperature,
                    responseFormat: scenario.model.responseFormat, params: scenario.model.params, sample: sample,
                    systemSha256: systemSha256, userSha256: userSha256)
                items.append(
                    WorkItem(label: label, sample: sample, request: request))
            }
        }
        return items
    }

    /// Finds stored replies, one per item (nil: none): by request key (exact) or event key (same-event); the
    /// newest wins, and for an event key one recorded under the current system prompt wins over a stale one.
    /// Nothing is read in `refresh` and `off` modes.
    ///
    /// One indexed query per incident (`reply_event`: incident, user message, provider, model, sample — and the
    /// rowid, so a sample's replies come oldest first without a sort) reads its replies; a row is matched to its
    /// item by sample number, and only the rows that are used are decoded.
    func lookUp(_ items: [WorkItem], scenario: Scenario, systemSha256: String) throws -> [CachedReply?] {
        var found = [CachedReply?](repeating: nil, count: items.count)
        guard scenario.cache == .replay || scenario.cache == .record, !items.isEmpty else { return found }
        let current = Array(systemSha256.utf8)
        try store.queue.read { db in
            let replies = try ReplyRecord.EventReplies(db)
            // Items come grouped by incident (and user message); each group is one query.
            var start = 0
            while start < items.count {
                let first = items[start].request
                let incidentId = items[start].label.incidentId
                var end = start + 1
                while end < items.count, items[end].label.incidentId == incidentId,
                    items[end].request.userSha256 == first.userSha256
                {
                    end += 1
                }
                var indexBySample: [Int: Int] = [:]
                for index in start..<end { indexBySample[items[index].sample] = index }
                replies.select(
                    incidentId: incidentId, userSha256: first.userSha256, provider: first.provider, model: first.model)
                while try replies.next() {
                    guard let index = indexBySample[replies.sample] else { continue }
                    let stale = !replies.hasSystemSha256(current)
                    switch scenario.match {
                    case .exact:
                        guard replies.requestSha256 == items[index].requestSha256 else { continue }
                    case .sameEvent:
                        // Later rows win, except that a stale reply never displaces a current one.
                        if stale, let existing = found[index], !existing.stale { continue }
                    }
                    found[index] = CachedReply(
                        id: replies.id, text: replies.text, error: replies.error, stale: stale)
                }
                start = end
            }
        }
        return found
    }

    func createRun(
        scenario: Scenario, planner: Planner, labels: [Label], corpusIncidents: Int, mergedShards: Int? = nil
    ) throws -> String {
        let catalog = planner.catalog
        let started = clock.now()
        let now = UTCTimestamp.string(started)
        return try store.queue.write { db -> String in
            let labelSetId = try LabelSetRecord.save(labels.map(LabelRecord.init), corpus: scenario.corpus, in: db)
            let catalogId = try CatalogRecord.save(db, catalog, at: now)
            // A shard's id names it: the shards of one fan-out start in the same second, each in its own store,
            // and their reports may share a folder.
            let name = scenario.shard.map { "\(scenario.name)-shard\($0.index)of\($0.count)" } ?? scenario.name
            let id = try RunRecord.newId(db, scenario: name, at: started)
            try RunRecord(
                id: id, scenario: scenario.name, scenarioPath: scenario.path, scenarioText: scenario.text,
                config: scenario.file.storedJSON, corpus: scenario.corpus,
                catalogId: catalogId, systemPromptSha256: Digest.sha256Hex(planner.systemPrompt),
                provider: scenario.model.provider.rawValue, model: scenario.model.name, samples: scenario.samples,
                threshold: scenario.threshold, approvalGate: scenario.approvalGate, cacheMode: scenario.cache.rawValue,
                matchMode: scenario.match.rawValue, status: "running", startedAt: now, finishedAt: nil,
                labelSetId: labelSetId, corpusIncidents: corpusIncidents, shard: scenario.shard?.description,
                mergedShards: mergedShards
            ).insert(db)
            return id
        }
    }
}

extension Runner.WorkItem {
    var key: SampleKey { SampleKey(incidentId: label.incidentId, sample: sample) }
}

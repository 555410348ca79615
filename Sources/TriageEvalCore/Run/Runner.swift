import Foundation
import GRDB
import Synchronization

/// A flag set from a signal handler to ask a run to stop launching calls (Ctrl-C); the run can be resumed.
package final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    package init() {}

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
        var request: ModelRequest
        /// Whether the run holds a transport failure for this sample, which the new result replaces (resume).
        var replacesTransportFailure = false
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
    }

    /// Everything that stays the same across the items of a run.
    struct Context: Sendable {
        var runId: String
        var scenario: Scenario
        var judge: Judge

        /// Judges an item's reply and makes its record.
        func result(
            _ item: WorkItem, reply: Judge.Reply, replyId: Int64?, cacheHit: Bool, stale: Bool
        ) -> ResultRow {
            ResultRow(
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
        if let reference = scenario.gates.noSignificantRegressionVs {
            _ = try Gates.baselineRun(reference, excluding: nil, store: store)
        }
        let corpus = try CorpusLoader(store: store, progressStyle: progressStyle)
            .load(directory: scenario.corpusDirectory, provider: scenario.model.provider)
        let (planner, labels) = try prepare(scenario)
        let items = try workItems(scenario: scenario, planner: planner, labels: Self.replayed(labels, scenario))
        let started = Date()
        let cached = try lookUp(items, scenario: scenario, systemSha256: Digest.sha256Hex(planner.systemPrompt))
        if scenario.cache == .replay {
            let missing = zip(items, cached).filter { $0.1 == nil }.map(\.0)
            if !missing.isEmpty {
                throw RunError.missingReplies(
                    model: scenario.model.name, match: scenario.match.rawValue,
                    missing: missing.map { "\($0.label.incidentId) sample \($0.sample)" }, total: items.count)
            }
        }
        let runId = try createRun(scenario: scenario, planner: planner, labels: labels)
        return try await execute(
            runId: runId, scenario: scenario, planner: planner, items: items, cached: cached, corpus: corpus,
            started: started)
    }

    /// Continues an interrupted run — or retries a complete run's transport failures: judges every
    /// (incident, sample) without a result, and retries those whose call failed in transport (the new result
    /// replaces the failure).
    /// - Throws: ``RunError``.
    package func resume(runId: String) async throws -> Outcome {
        let row = try store.queue.read { db in
            try Row.fetchOne(
                db, sql: "SELECT scenarioPath, scenarioText, status, cacheMode FROM run WHERE id = ?",
                arguments: [runId])
        }
        guard let row else { throw RunError.unknownRun(runId) }
        // A complete run has a result for every sample; its transport failures (a dead network, an outage that
        // outlasted the retries) can still be retried.
        if (row["status"] as String) == "complete" {
            let failures = try await store.queue.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM result WHERE runId = ? AND failureClass = 'transport'",
                    arguments: [runId]) ?? 0
            }
            if failures == 0 { throw RunError.alreadyComplete(runId) }
        }
        let path: String = row["scenarioPath"]
        var scenario = try Scenario.load(path: path)
        guard scenario.text == (row["scenarioText"] as String) else {
            throw RunError.scenarioChanged(runId: runId, path: path)
        }
        // The run's own cache mode, which a command-line override may have set.
        scenario.cache = CacheMode(rawValue: row["cacheMode"]) ?? scenario.cache
        let (planner, labels) = try prepare(scenario)
        // The run is judged against the labels it started with: resuming against edited labels would mix two.
        let labelDigest = LabelSetRecord.digest(labels.map(LabelRecord.init), corpus: scenario.corpus)
        let unchanged = try await store.queue.read { db in
            try String.fetchOne(
                db,
                sql: "SELECT labelSet.sha256 FROM labelSet JOIN run ON run.labelSetId = labelSet.id WHERE run.id = ?",
                arguments: [runId]) == labelDigest
        }
        guard unchanged else { throw RunError.labelsChanged(runId: runId, corpus: scenario.corpus) }
        let stored = try await store.queue.read { db in
            try Dictionary(
                Row.fetchAll(
                    db, sql: "SELECT incidentId, sample, failureClass FROM result WHERE runId = ?", arguments: [runId]
                ).map { (SampleKey(incidentId: $0["incidentId"], sample: $0["sample"]), $0["failureClass"] as String) },
                uniquingKeysWith: { first, _ in first })
        }
        let items = try workItems(scenario: scenario, planner: planner, labels: Self.replayed(labels, scenario))
            .compactMap { item -> WorkItem? in
                guard let failureClass = stored[item.key] else { return item }
                guard failureClass == FailureClass.transport.rawValue else { return nil }
                var item = item
                item.replacesTransportFailure = true
                return item
            }
        let started = Date()
        let cached = try lookUp(items, scenario: scenario, systemSha256: Digest.sha256Hex(planner.systemPrompt))
        return try await execute(
            runId: runId, scenario: scenario, planner: planner, items: items, cached: cached,
            corpus: CorpusLoader.Summary(), started: started)
    }

    // MARK: - Preparation

    private func prepare(_ scenario: Scenario) throws -> (Planner, [Label]) {
        let catalog = try Catalog.load(path: scenario.catalogPath)
        let template = try scenario.templatePath.map { try Planner.loadTemplate(path: $0) } ?? Planner.seedTemplate
        let planner = Planner(catalog: catalog, template: template)
        let labelsPath = (scenario.corpusDirectory as NSString).appendingPathComponent("labels.yaml")
        guard FileManager.default.fileExists(atPath: labelsPath) else {
            throw RunError.noLabels(corpus: scenario.corpus, path: labelsPath)
        }
        let (knownIncidents, facts) = try store.queue.read { db in
            (
                Set(try String.fetchAll(db, sql: "SELECT id FROM incident")),
                try IncidentFacts.fetch(corpus: scenario.corpus, in: db)
            )
        }
        let labels = try LabelFile.load(
            path: labelsPath, catalog: catalog, incidents: facts, knownIncidents: knownIncidents
        ).labels
        return (planner, labels)
    }

    /// The labelled incidents a run replays: all of them, or the first `limit` by id. (Every label is stored with
    /// the run, so the report counts the corpus's labels whatever the limit.)
    static func replayed(_ labels: [Label], _ scenario: Scenario) -> [Label] {
        scenario.limit.map { Array(labels.prefix($0)) } ?? labels
    }

    private func workItems(scenario: Scenario, planner: Planner, labels: [Label]) throws -> [WorkItem] {
        let system = planner.systemPrompt
        let systemSha256 = Digest.sha256Hex(system)
        var items: [WorkItem] = []
        items.reserveCapacity(labels.count * scenario.samples)
        for label in labels {
            let user = try IncidentEvents.userMessage(store: store, incidentId: label.incidentId)
            let userSha256 = Digest.sha256Hex(user)
            for sample in 0..<scenario.samples {
                let request = ModelRequest(
                    provider: scenario.model.provider, model: scenario.model.name, system: system, user: user,
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
    private func lookUp(_ items: [WorkItem], scenario: Scenario, systemSha256: String) throws -> [CachedReply?] {
        var found = [CachedReply?](repeating: nil, count: items.count)
        guard scenario.cache == .replay || scenario.cache == .record, !items.isEmpty else { return found }
        let current = Array(systemSha256.utf8)
        try store.queue.read { db in
            let statement = try RawStatement(
                db,
                sql: """
                    SELECT id, sample, requestSha256, systemSha256, text, error FROM reply
                    WHERE incidentId = ? AND userSha256 = ? AND provider = ? AND model = ? ORDER BY sample, id
                    """)
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
                statement.bind(1, incidentId)
                statement.bind(2, first.userSha256)
                statement.bind(3, first.provider)
                statement.bind(4, first.model)
                while try statement.step() {
                    guard let index = indexBySample[statement.int(1)] else { continue }
                    let stale = !statement.textEquals(3, current)
                    switch scenario.match {
                    case .exact:
                        guard statement.text(2) == items[index].requestSha256 else { continue }
                    case .sameEvent:
                        // Later rows win, except that a stale reply never displaces a current one.
                        if stale, let existing = found[index], !existing.stale { continue }
                    }
                    found[index] = CachedReply(
                        id: Int64(statement.int(0)), text: statement.text(4), error: statement.text(5), stale: stale)
                }
                start = end
            }
        }
        return found
    }

    private func createRun(scenario: Scenario, planner: Planner, labels: [Label]) throws -> String {
        let catalog = planner.catalog
        let started = clock.now()
        let now = UTCTimestamp.string(started)
        return try store.queue.write { db -> String in
            let labelSetId = try LabelSetRecord.save(labels.map(LabelRecord.init), corpus: scenario.corpus, in: db)
            let corpusIncidents = try Self.corpusIncidents(scenario.corpus, in: db)
            try db.execute(
                sql: """
                    INSERT INTO catalog (sha256, path, format, text, json, loadedAt) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (sha256) DO NOTHING
                    """,
                arguments: [catalog.sha256, catalog.path, catalog.format, catalog.text, catalog.promptJSON, now])
            let catalogId = try Int64.fetchOne(
                db, sql: "SELECT id FROM catalog WHERE sha256 = ?", arguments: [catalog.sha256])!
            let id = try Self.newRunId(db, scenario: scenario.name, at: started)
            try db.execute(
                sql: """
                    INSERT INTO run (id, scenario, scenarioPath, scenarioText, config, corpus, catalogId,
                        systemPromptSha256, provider, model, samples, threshold, approvalGate, cacheMode, matchMode,
                        status, startedAt, labelSetId, corpusIncidents)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                    """,
                arguments: [
                    id, scenario.name, scenario.path, scenario.text, PythonJSONEncoder.string(scenario.effectiveConfig),
                    scenario.corpus, catalogId, Digest.sha256Hex(planner.systemPrompt), scenario.model.provider,
                    scenario.model.name, scenario.samples, scenario.threshold, scenario.approvalGate,
                    scenario.cache.rawValue, scenario.match.rawValue, now, labelSetId, corpusIncidents,
                ])
            return id
        }
    }

    /// How many incidents a corpus's deliveries make.
    static func corpusIncidents(_ corpus: String, in db: Database) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(DISTINCT incidentId) FROM delivery WHERE corpus = ? AND incidentId IS NOT NULL",
            arguments: [corpus]) ?? 0
    }

    /// `<scenario>-<UTC timestamp>`, with a numeric suffix if that id exists.
    static func newRunId(_ db: Database, scenario: String, at date: Date) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let base = "\(scenario)-\(formatter.string(from: date))"
        var id = base
        var suffix = 2
        while try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [id]) ?? false {
            id = "\(base)-\(suffix)"
            suffix += 1
        }
        return id
    }
}

extension Runner.WorkItem {
    var key: SampleKey { SampleKey(incidentId: label.incidentId, sample: sample) }
}

import Foundation
import GRDB

/// Errors merging the shards of a run (set-up errors: exit 2), each naming the shard's store.
package enum MergeError: LocalizedError, Equatable {
    case noShards
    case noStore(path: String)
    case noShardRun(path: String, scenario: String)
    case incomplete(path: String, runId: String, shard: String)
    case transportFailures(path: String, runId: String, shard: String, count: Int)
    case mismatch(path: String, runId: String, what: String)
    case counts(String)
    case duplicate(shard: String, paths: [String])
    case missing(shards: [String], count: Int)
    case foreignResult(path: String, shard: String, incidentId: String)
    case missingResults(missing: [String], total: Int)
    case uncoveredMessages(missing: [String], planned: Int)

    package var errorDescription: String? {
        switch self {
        case .noShards: return "merge: give the shards' stores (files, or folders of *.sqlite files)"
        case .noStore(let path): return "\(path): no such store"
        case .noShardRun(let path, let scenario):
            return "\(path): no shard run of scenario '\(scenario)' with this scenario file's text "
                + "(run it with: triage-eval run SCENARIO --shard I/N --db \(path))"
        case .incomplete(let path, let runId, let shard):
            return "\(path): shard \(shard) (run \(runId)) is not complete (finish it with: triage-eval run "
                + "--resume \(runId) --db \(path))"
        case .transportFailures(let path, let runId, let shard, let count):
            return "\(path): shard \(shard) (run \(runId)) has \(count) transport failures (retry them with: "
                + "triage-eval run --resume \(runId) --db \(path))"
        case .mismatch(let path, let runId, let what):
            return "\(path): run \(runId) was made with \(what) than this merge's; merge shards of one scenario, "
                + "corpus and catalog"
        case .counts(let detail): return "the shards disagree on how many there are: \(detail)"
        case .duplicate(let shard, let paths):
            return "shard \(shard) is given twice: \(paths.joined(separator: ", "))"
        case .missing(let shards, let count):
            return "shards \(shards.joined(separator: ", ")) of \(count) are missing"
        case .foreignResult(let path, let shard, let incidentId):
            return "\(path): shard \(shard) holds a result for incident \(incidentId), which hashes to another shard"
        case .missingResults(let missing, let total):
            return "the shards hold no result for \(missing.count) of \(total) samples:\n  "
                + missing.prefix(20).joined(separator: "\n  ")
                + (missing.count > 20 ? "\n  … and \(missing.count - 20) more" : "")
        case .uncoveredMessages(let missing, let planned):
            return "the shards recorded no reply for \(missing.count) of \(planned) planned pipeline messages:\n  "
                + missing.prefix(20).joined(separator: "\n  ")
                + (missing.count > 20 ? "\n  … and \(missing.count - 20) more" : "")
                + "\n(each shard records its incidents' messages: finish the shards those incidents hash to with "
                + "the same run --shard command)"
        }
    }
}

extension Runner {
    /// A shard's run found in its store.
    struct ShardRun {
        var path: String
        var store: Store
        var run: RunRecord
        var shard: Shard
    }

    /// One shard's result: the reply it judged (its id in the merged store) and how it came.
    private struct ShardResult {
        var replyId: Int64
        var text: String?
        var error: String?
        var cacheHit: Bool
        var stale: Bool
    }

    /// What ``start(_:said:)`` did with a shard's earlier run in this store.
    package enum ShardStart: Sendable, Equatable {
        /// No earlier run: a new one.
        case new
        /// Continued an unfinished run, or retried a finished one's failed calls.
        case continued(String)
        /// The shard's run is complete with nothing to retry: it is the result (its reports are written again).
        case complete(String)
    }

    /// Starts a shard of a run (`run SCENARIO --shard I/N`) — or, when this store already holds the shard's run
    /// of the same scenario file, continues it as ``resume(runId:)`` would (an unfinished run, or a finished one
    /// with calls that failed in transport), or returns it when it is complete: the same command, retried on the
    /// same store (a pod's retry, a killed process), calls only what is missing. A lease another host left is
    /// taken over (a retried pod has a new host name). A whole scenario starts a run as ``run(_:)``.
    /// - Throws: as ``run(_:)`` and ``resume(runId:)``; ``RunError/shardFailures(runId:count:)`` when calls of
    ///   the shard failed in transport (the merge refuses them; the same command retries them).
    package func start(_ scenario: Scenario, said: (ShardStart) -> Void = { _ in }) async throws -> Outcome {
        guard let shard = scenario.shard else { return try await run(scenario) }
        let earlier = try await store.queue.read { db -> (RunRecord, Int)? in
            guard
                let run = try RunRecord.filter(
                    Column("shard") == shard.description && Column("scenarioText") == scenario.text
                        && Column("cacheMode") == scenario.cache.rawValue
                ).order(RunRecord.Columns.startedAt.desc, RunRecord.Columns.id.desc).fetchOne(db)
            else { return nil }
            return (run, try ResultRecord.retryableFailureCount(db, runId: run.id))
        }
        var runner = self
        runner.takesOverOtherHostsLease = true
        let outcome: Outcome
        switch earlier {
        case nil:
            said(.new)
            outcome = try await run(scenario)
        case let (run, failures)? where run.status == "running" || failures > 0:
            said(.continued(run.id))
            outcome = try await runner.resume(runId: run.id)
        case let (run, _)?:
            said(.complete(run.id))
            return Outcome(runId: run.id, corpus: CorpusLoader.Summary(), results: 0, cacheHits: 0, calls: 0)
        }
        let failures = try await store.queue.read { db in
            try ResultRecord.retryableFailureCount(db, runId: outcome.runId)
        }
        if failures > 0 { throw RunError.shardFailures(runId: outcome.runId, count: failures) }
        return outcome
    }

    /// How many of a recording pipeline replay's calls have no stored reply (their call failed).
    func unrecordedCalls(_ replay: PipelineReplay) throws -> Int {
        guard !replay.calls.isEmpty else { return 0 }
        return try store.queue.read { db in
            let statement = try RawStatement(db, sql: ReplyRecord.eventKeyExistsSQL)
            var missing = 0
            for call in replay.calls
            where try !ReplyRecord.exists(with: statement, incidentId: call.incidentId, request: call.request) {
                missing += 1
            }
            return missing
        }
    }

    /// Merges the shards of a run (`run --shard I/N` on N machines, each with its own store) into one run of the
    /// whole scenario in this store: the same results as one run on one machine.
    ///
    /// Each shard's store must hold a complete run of this scenario file, made with the same system prompt and
    /// labels, with no transport failure left to retry; together the shards must be 1/N … N/N, once each. Their
    /// replies are copied into this store (an identical stored reply is reused), their judged results become
    /// this run's — a reply a shard called for counts as a live call here, as it would have in one run — and
    /// the pipeline replay, whose state rules couple incidents over time, runs here once over every message in
    /// time order, with the replies the shards recorded.
    /// - Parameter shardStores: the shards' store files.
    /// - Throws: ``MergeError`` (naming the store), and the errors of ``run(_:)``.
    package func merge(_ scenario: Scenario, shardStores: [String]) async throws -> Outcome {
        guard scenario.shard == nil, !shardStores.isEmpty else { throw MergeError.noShards }
        for (reference, gate) in Gates.baselineReferences(scenario.gates) {
            _ = try Gates.baselineRun(reference, excluding: nil, gate: gate, store: store)
        }
        let corpus = try CorpusLoader(store: store, progressStyle: progressStyle)
            .load(directory: scenario.corpusDirectory, provider: scenario.model.provider.rawValue)
        let (planner, labels, corpusIncidents) = try prepare(scenario)
        // The shards' stores are read from copies: opening a store may migrate it and makes its -wal and -shm
        // files, and an input artifact's folder may be read-only (or another user's); the inputs stay as they came.
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("triage-eval-merge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let shards = try shardRuns(
            shardStores, scenario: scenario, planner: planner, labels: labels, scratch: scratch)
        let started = Date()
        var results: [SampleKey: ShardResult] = [:]
        for shard in shards {
            try copy(shard, scenario: scenario, into: &results)
        }
        let items = try workItems(scenario: scenario, planner: planner, labels: Self.replayed(labels, scenario))
        var missing: [String] = []
        let cached = items.map { item -> CachedReply? in
            guard let result = results[item.key] else {
                missing.append("\(item.label.incidentId) sample \(item.sample)")
                return nil
            }
            return CachedReply(
                id: result.replyId, text: result.text, error: result.error, stale: result.stale,
                cacheHit: result.cacheHit)
        }
        if !missing.isEmpty { throw MergeError.missingResults(missing: missing, total: items.count) }
        let pipeline = try pipelineReplay(scenario, planner: planner, labels: labels, items: items, census: nil)
        if let pipeline, !pipeline.calls.isEmpty {
            throw MergeError.uncoveredMessages(
                missing: pipeline.calls.map { "\($0.incidentId) sample \($0.request.sample)" },
                planned: pipeline.plannedCount ?? pipeline.calls.count)
        }
        let runId = try createRun(
            scenario: scenario, planner: planner, labels: labels, corpusIncidents: corpusIncidents,
            mergedShards: shards.first!.shard.count)
        return try await withLease(runId: runId) {
            try await execute(
                runId: runId, scenario: scenario, planner: planner, items: items, cached: cached, corpus: corpus,
                started: started, expectedResults: Self.replayed(labels, scenario).count * scenario.samples
            ) {
                try writePipeline(pipeline, runId: runId, scenario: scenario, planner: planner)
            }
        }
    }

    /// Finds each store's shard run of the scenario, checks it and the set of shards.
    private func shardRuns(
        _ paths: [String], scenario: Scenario, planner: Planner, labels: [Label], scratch: String
    ) throws -> [ShardRun] {
        let systemSha256 = Digest.sha256Hex(planner.systemPrompt)
        let labelDigest = Label.setDigest(labels, corpus: scenario.corpus)
        var runs: [ShardRun] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { throw MergeError.noStore(path: path) }
            let copy = (scratch as NSString).appendingPathComponent("shard-\(runs.count + 1).sqlite")
            // With the write-ahead log beside it, if a process left one.
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
            }
            let shardStore = try Store(path: copy)
            let found = try shardStore.queue.read { db -> (RunRecord, String?, Int)? in
                let candidates = try RunRecord.filter(
                    Column("shard") != nil && Column("scenarioText") == scenario.text
                ).order(RunRecord.Columns.startedAt.desc, RunRecord.Columns.id.desc).fetchAll(db)
                // The newest complete run, else the newest (to say it is unfinished).
                guard let run = candidates.first(where: { $0.status == "complete" }) ?? candidates.first else {
                    return nil
                }
                let labelSha = try run.labelSetId.flatMap { try LabelSetRecord.fetchOne(db, key: $0)?.sha256 }
                let failures = try ResultRecord.retryableFailureCount(db, runId: run.id)
                return (run, labelSha, failures)
            }
            guard let (run, labelSha, failures) = found, let shard = run.shard.flatMap(Shard.init) else {
                throw MergeError.noShardRun(path: path, scenario: scenario.name)
            }
            guard run.status == "complete" else {
                throw MergeError.incomplete(path: path, runId: run.id, shard: shard.description)
            }
            guard failures == 0 else {
                throw MergeError.transportFailures(
                    path: path, runId: run.id, shard: shard.description, count: failures)
            }
            if run.systemPromptSha256 != systemSha256 {
                throw MergeError.mismatch(
                    path: path, runId: run.id, what: "another system prompt (catalog or template)")
            }
            if labelSha != labelDigest {
                // A label's source names its file by the path the scenario was given: shards and merge must name
                // the scenario alike (the template passes one parameter to all).
                throw MergeError.mismatch(
                    path: path, runId: run.id,
                    what: "other labels (or the same ones, reached through another path to the scenario file)")
            }
            if run.provider != scenario.model.provider.rawValue || run.model != scenario.model.name {
                throw MergeError.mismatch(path: path, runId: run.id, what: "another model")
            }
            runs.append(ShardRun(path: path, store: shardStore, run: run, shard: shard))
        }
        let count = runs[0].shard.count
        if let other = runs.first(where: { $0.shard.count != count }) {
            throw MergeError.counts(
                "\(runs[0].path) is shard \(runs[0].shard), \(other.path) is shard \(other.shard)")
        }
        let byShard = Dictionary(grouping: runs, by: \.shard.index)
        if let (index, twice) = byShard.first(where: { $0.value.count > 1 }) {
            throw MergeError.duplicate(shard: "\(index)/\(count)", paths: twice.map(\.path))
        }
        let absent = (1...count).filter { byShard[$0] == nil }
        if !absent.isEmpty { throw MergeError.missing(shards: absent.map { "\($0)/\(count)" }, count: count) }
        return runs.sorted { $0.shard.index < $1.shard.index }
    }

    /// Copies a shard's replies (the scenario model's, of the shard's incidents: those its results judged and
    /// those its pipeline calls recorded) into this store, and collects its results by sample.
    ///
    /// A reply identical to one stored here (same keys, text and error; for a live reply, the same recording
    /// time too) is not copied again, so merging twice, or a corpus's shipped replies in both stores, adds
    /// nothing.
    private func copy(_ shard: ShardRun, scenario: Scenario, into results: inout [SampleKey: ShardResult]) throws {
        let provider = scenario.model.provider.rawValue
        let model = scenario.model.name
        let replies = try shard.store.queue.read { db in
            try ReplyRecord.filter(Column("provider") == provider && Column("model") == model)
                .order(ReplyRecord.Columns.id).fetchAll(db)
        }.filter { shard.shard.contains($0.incidentId) }
        var ids: [Int64: (id: Int64, text: String?, error: String?)] = [:]
        try store.queue.write { db in
            let same = try RawStatement(db, sql: ReplyRecord.identicalSQL)
            let insert = try RawStatement(db, sql: ReplyRecord.insertSQL)
            for reply in replies {
                let id = try reply.identical(with: same) ?? reply.insert(with: insert)
                ids[reply.id!] = (id, reply.text, reply.error)
            }
        }
        let rows = try shard.store.queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT incidentId, sample, replyId, cacheHit, stale FROM result WHERE runId = ?",
                arguments: [shard.run.id])
        }
        for row in rows {
            let incidentId: String = row[0]
            guard shard.shard.contains(incidentId) else {
                throw MergeError.foreignResult(path: shard.path, shard: shard.shard.description, incidentId: incidentId)
            }
            let replyId: Int64? = row[2]
            guard let replyId, let reply = ids[replyId] else { continue }
            results[SampleKey(incidentId: incidentId, sample: row[1])] = ShardResult(
                replyId: reply.id, text: reply.text, error: reply.error, cacheHit: row[3], stale: row[4])
        }
    }
}

extension Runner {
    /// One shard's share of a scenario's work.
    package struct ShardShare: Sendable, Equatable {
        package var shard: Shard
        /// Labelled incidents it replays.
        package var incidents: Int
        /// Samples it judges (incidents × samples per incident).
        package var samples: Int
    }

    /// How a scenario's work splits into `count` shards (the fan-out's `split` step): loads the corpus and labels
    /// as a run does, so a bad scenario, corpus or label file stops the fan-out before any shard starts.
    /// - Throws: as ``run(_:)`` does before it replays anything.
    package func plan(_ scenario: Scenario, count: Int) throws -> [ShardShare] {
        _ = try CorpusLoader(store: store, progressStyle: progressStyle)
            .load(directory: scenario.corpusDirectory, provider: scenario.model.provider.rawValue)
        let labels = try prepare(scenario).labels
        var incidents = [Int](repeating: 0, count: count)
        for label in Self.replayed(labels, scenario.with(shard: nil)) {
            incidents[Shard.bucket(of: label.incidentId, count: count)] += 1
        }
        return Shard.all(count: count).map { shard in
            ShardShare(
                shard: shard, incidents: incidents[shard.index - 1],
                samples: incidents[shard.index - 1] * scenario.samples)
        }
    }
}

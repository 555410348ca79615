import Foundation
import GRDB
import Synchronization

extension RunReport {
    /// The stored facts of a run.
    static func runInfo(_ db: Database, runId: String) throws -> (RunInfo, ScenarioFile) {
        let run = try RunRecord.find(db, id: runId)
        let catalog = try CatalogRecord.fetchOne(db, key: run.catalogId)!
        let config = ScenarioFile.stored(run.config)
        let info = RunInfo(
            id: run.id, scenario: run.scenario, corpus: run.corpus, provider: run.provider, model: run.model,
            maxTokens: config.model?.maxTokens, decoding: config.model.map(DecodingParameter.of),
            samples: run.samples, threshold: run.threshold,
            approvalGate: run.approvalGate, catalogPath: catalog.path, catalogSha256: catalog.sha256,
            systemPromptSha256: run.systemPromptSha256, status: run.status, startedAt: run.startedAt,
            finishedAt: run.finishedAt, shard: run.shard, mergedShards: run.mergedShards)
        return (info, config)
    }

    /// Builds the report of a run from the store, in one scan of its results, without its gates.
    ///
    /// The Pipeline section reads other tables than the incident sections do (a million message rows and more, for
    /// a large replay): it is built on connections of its own, on other threads, meanwhile.
    /// - Throws: ``RunError/unknownRun(_:)`` and store errors.
    package static func build(runId: String, store: Store) throws -> RunReport {
        guard let reader = try store.reader(cacheKiB: Store.scanCacheKiB) else {
            return try store.queue.read { db in try scan(db, runId: runId, pipeline: true) }
        }
        let stateReader = try store.reader(cacheKiB: Store.scanCacheKiB)
        let pipeline = BackgroundWork(label: "triage-eval.report-pipeline") {
            try reader.read { db in
                let config = try runInfo(db, runId: runId).1
                return try PipelineReport.build(db, runId: runId, config: config, stateReader: stateReader)
            }
        }
        var report = try store.queue.read { db in try scan(db, runId: runId, pipeline: false) }
        report.pipeline = try pipeline.value()
        return report
    }

    /// Builds the report of a run and evaluates the scenario's gates; the regression gate first compares the run
    /// with its baseline.
    /// - Throws: ``RunError/unknownRun(_:)``, store errors, and ``RunError/noBaselineRun(_:)``.
    package static func buildGated(runId: String, store: Store) throws -> RunReport {
        var report = try build(runId: runId, store: store)
        let config = try store.queue.read { db in try runInfo(db, runId: runId).1 }
        let gates = GateConfig(stored: config.gates)
        let comparison = try Gates.compareWithBaseline(runId: runId, config: gates, store: store)
        let unsafe = try Gates.unsafeComparisons(runId: runId, config: gates, store: store)
        report.gates = Gates.evaluate(report: report, config: gates, comparison: comparison, unsafe: unsafe)
        return report
    }

    private static let invalidClasses = FailureClass.allCases.filter(\.isInvalidJSON).map(\.rawValue)
    /// Rows handed from the report's reader thread at a time.
    private static let scanBatch = 4096
    private static let exampleClasses = FailureClass.allCases.filter { $0 != .ok && $0 != .transport }.map(\.rawValue)

    /// Reads every result of a run once, feeding each tally, and assembles the report from them — with its
    /// Pipeline section when `pipeline` is true.
    ///
    /// Raw statement (``ScannedResult/sql``): the measured hot path of `report`.
    static func scan(_ db: Database, runId: String, pipeline: Bool) throws -> RunReport {
        let (info, config) = try runInfo(db, runId: runId)
        let settings = ReportSettings(stored: config.report)
        let coverage = try Self.coverage(db, corpus: info.corpus, runId: runId)
        var sources = SourceTally()
        var outcomes = OutcomeTally()
        var scores = ScoreTally()
        var policy = PolicyTally()
        var calibration = CalibrationTally(byRoute: settings.correctness == .route)
        var sweep = SweepTally()
        let plan = try BaselinePlan.read(
            db, runId: runId, threshold: info.threshold, approvalGate: info.approvalGate)
        var baselines = BaselineTally(plan: plan)
        var alertTypes = AlertTypeTally(alertTypes: plan.alertTypes)
        var production = ProductionRouteTally()
        // Replies are independent only with one sample per incident and incidents resampled.
        var clusters =
            info.samples > 1 || settings.resample != .incident
            ? ClusterTally(
                unit: settings.resample, plan: plan, threshold: info.threshold,
                correctnessByRoute: settings.correctness == .route)
            : nil
        var sweepClusters: [Int] = []

        let statement = try RawStatement(db, sql: ScannedResult.sql)
        statement.bind(1, runId)
        func tally(_ result: ScannedResult) {
            sources.add(result)
            outcomes.add(result)
            scores.add(result)
            policy.add(result)
            calibration.add(result)
            sweep.add(result)
            alertTypes.add(result)
            production.add(result)
            if clusters != nil {
                let cluster = clusters!.cluster(of: result)
                clusters!.add(result, cluster: cluster)
                baselines.add(result, cluster: cluster)
                if !result.isTransport { sweepClusters.append(cluster) }
            } else {
                baselines.add(result)
            }
        }

        // SQLite's stepping and the rows' decoding on a thread of their own, the tallies on this one: the two cores
        // share the report's one scan. The reader has the connection to itself until it signals `done` (this thread
        // touches no SQLite before then).
        let batches = BoundedQueue<[ScannedResult]>(capacity: 4)
        let failure = ThreadFailure()
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let reading = statement
        DispatchQueue(label: "triage-eval.report-reader").async {
            do {
                var batch: [ScannedResult] = []
                batch.reserveCapacity(Self.scanBatch)
                while try reading.step() {
                    batch.append(ScannedResult(reading))
                    guard batch.count == Self.scanBatch else { continue }
                    guard batches.put(batch) else { break }
                    batch.removeAll(keepingCapacity: true)
                }
                if !batch.isEmpty { _ = batches.put(batch) }
            } catch {
                failure.error = error
            }
            batches.close()
            done.signal()
        }
        defer {
            batches.close()
            done.wait()
        }
        while let batch = batches.take() {
            // By index: each result is borrowed from the batch, not copied out of it.
            for index in batch.indices { tally(batch[index]) }
        }
        // The queue closed when the reader stepped past the last row: the connection is this thread's again.
        if let error = failure.error { throw error }

        let replies = outcomes.replies
        let failureClasses = outcomes.failureClasses
        let invalid = invalidClasses.reduce(0) { $0 + (failureClasses[$1] ?? 0) }
        let pValue = Statistics.binomialUpperTail(invalid, replies, settings.invalidJSONBaseline)
        let invalidReport = InvalidJSONReport(
            replies: replies,
            invalid: Rate(invalid, of: replies),
            byClass: Dictionary(uniqueKeysWithValues: invalidClasses.map { ($0, failureClasses[$0] ?? 0) }),
            byClassRate: Dictionary(
                uniqueKeysWithValues: invalidClasses.map { ($0, Rate(failureClasses[$0] ?? 0, of: replies)) }),
            truncatedAtMaxTokens: outcomes.truncatedAtMaxTokens,
            notObject: Rate(failureClasses[FailureClass.notObject.rawValue] ?? 0, of: replies),
            schema: Rate(failureClasses[FailureClass.schema.rawValue] ?? 0, of: replies),
            unknownAction: Rate(failureClasses[FailureClass.unknownAction.rawValue] ?? 0, of: replies),
            examples: try examples(db, outcomes.exampleRefs),
            baseline: settings.invalidJSONBaseline,
            pAboveBaseline: pValue,
            aboveBaseline: replies > 0 && pValue < 0.05)
        // The scenario's sweep and production's (with the approval gate on) side by side, one on each core.
        let sweepInputs = [sweep.samples] + (info.approvalGate ? [sweep.productionSamples] : [])
        let sweepClustering = clusters.map { (of: sweepClusters, count: $0.clusterCount) }
        let computed = Mutex<[Int: ThresholdSweep]>([:])
        DispatchQueue.concurrentPerform(iterations: sweepInputs.count) { index in
            let result = ThresholdSweep.compute(
                sweepInputs[index], replies: replies, currentThreshold: info.threshold,
                targetPrecision: settings.targetPrecision, clusters: sweepClustering)
            computed.withLock { $0[index] = result }
        }
        let sweeps = computed.withLock { (final: $0[0]!, production: $0[1]) }
        let pricing = config.model?.pricing
        let unit = clusters.map { ClusterTally.plural($0.unit) } ?? "incidents"
        var report = RunReport(
            run: info,
            intervals: .wilson,
            coverage: coverage,
            results: outcomes.results,
            replies: replies,
            transportFailures: outcomes.transport,
            sources: sources.summary(
                inputPrice: pricing?.input, outputPrice: pricing?.output),
            failureClasses: failureClasses,
            invalidJSON: invalidReport,
            routes: scores.routes,
            expectations: scores.expectations,
            decisionAccuracy: Rate(scores.decisionCorrect, of: replies),
            routeAccuracy: Rate(scores.routeCorrect, of: replies),
            unsafeExecutions: scores.unsafe,
            measures: baselines.model.measures,
            baselines: baselines.baselines(unit: unit),
            alertTypes: alertTypes.table,
            productionRoute: production.view(sweep: sweeps.production),
            finalRoute: RouteView(
                policies: info.approvalGate ? ["approval_gate"] : [], measures: baselines.model.measures,
                routes: scores.routes, routeConfusion: scores.confusion, thresholdSweep: nil),
            actions: scores.actions,
            unsafeByAction: scores.unsafeByAction,
            catalogActions: plan.catalogActions,
            routeConfusion: scores.confusion,
            nanConfidenceDecisions: calibration.nanConfidence,
            outOfRangeConfidences: calibration.outOfRange,
            strictPolicy: policy.summary,
            calibration: Calibration.compute(
                calibration.pairs, excluded: calibration.excluded, bins: settings.bins, threshold: info.threshold,
                correctness: settings.correctness.rawValue),
            thresholdSweep: sweeps.final,
            gates: [],
            pipeline: pipeline ? try PipelineReport.build(db, runId: runId, config: config) : nil
        )
        clusters?.apply(to: &report)
        return report
    }

    /// Coverage from the run's own label set and the corpus's incident count when it ran, so that a report of an
    /// old run never changes.
    private static func coverage(_ db: Database, corpus: String, runId: String) throws -> Coverage {
        let incidents = try RunRecord.find(db, id: runId).corpusIncidents ?? IncidentRecord.count(db, corpus: corpus)
        var rules: [String: Int] = [:]
        var byRule = 0
        var byHand = 0
        for label in try Store.labels(ofRun: runId, in: db) {
            if label.origin == "rule" {
                byRule += 1
                rules[label.source, default: 0] += 1
            } else {
                byHand += 1
            }
        }
        let replayed = try ResultRecord.incidentCount(db, runId: runId)
        return Coverage(
            incidents: incidents, labelled: byRule + byHand, labelledByRule: byRule, labelledByHand: byHand,
            unlabelled: max(incidents - byRule - byHand, 0), replayed: replayed, rules: rules)
    }

    private static func examples(
        _ db: Database, _ refs: [String: [(incidentId: String, sample: Int, replyId: Int?)]]
    ) throws -> [String: [InvalidJSONReport.Example]] {
        var examples: [String: [InvalidJSONReport.Example]] = [:]
        for failureClass in exampleClasses {
            for ref in refs[failureClass] ?? [] {
                let reply = try ref.replyId.flatMap { try ReplyRecord.fetchOne(db, key: $0) }
                let text = reply?.text ?? ""
                examples[failureClass, default: []].append(
                    InvalidJSONReport.Example(
                        incidentId: ref.incidentId, sample: ref.sample, stopReason: reply?.stopReason,
                        text: String(text.prefix(400)), clipped: text.count > 400))
            }
        }
        return examples
    }
}

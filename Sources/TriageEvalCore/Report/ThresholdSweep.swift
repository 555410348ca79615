/// What production's router would do at each confidence threshold, and which threshold to choose.
///
/// At threshold t an `ok` decision executes when it does not ask for a human, the approval gate does not hold it
/// and its confidence is not below t (a NaN confidence always executes: `NaN < t` is false). Everything else a
/// valid decision is goes to a human for approval; invalid replies escalate at every threshold.
///
/// The table is a fixed grid — 0, 0.05, …, 1 — plus the run's threshold and the recommended one, so that it reads
/// the same for every model and every threshold in it is a number a person would write in a scenario. A stated
/// confidence above 1 executes at every threshold of the grid; such decisions are summed up in
/// ``aboveOne`` instead of a row per value (a model's `4096.0` is not a threshold anyone would set).
package struct ThresholdSweep: Codable, Sendable, Equatable {
    /// One threshold's outcome.
    package struct Row: Codable, Sendable, Equatable {
        package var threshold: Double
        /// Decisions auto-executed, of all replies (the coverage of automation).
        package var executed: Rate
        /// Executed decisions that are right (`decision correct` as if executed), with its Wilson interval.
        package var precision: Rate
        /// Executed decisions that run an action the label does not allow.
        package var unsafe: Int
        /// Decisions a person must approve.
        package var approvals: Int
        /// ``unsafe`` / executed and ``approvals`` / ok decisions, with their intervals; nil in a report written
        /// before they were kept.
        package var unsafeRate: Rate?
        package var approvalRate: Rate?
    }

    /// The decisions that only the threshold routes (not asking for a human, not held by the gate) and whose
    /// confidence is above 1: they execute at every threshold of the table.
    package struct AboveOne: Codable, Sendable, Equatable {
        package var decisions: Int
        /// Of them, right if executed / unsafe if executed.
        package var correct: Int
        package var unsafe: Int
        /// Their confidences' range.
        package var lowest: Double?
        package var highest: Double?

        package init(decisions: Int, correct: Int, unsafe: Int, lowest: Double? = nil, highest: Double? = nil) {
            self.decisions = decisions
            self.correct = correct
            self.unsafe = unsafe
            self.lowest = lowest
            self.highest = highest
        }
    }

    /// The grid's steps in [0, 1]: 0.05 apart.
    package static let gridSteps = 20

    /// The precision the recommendation must reach (Wilson lower bound).
    package var targetPrecision: Double
    /// The grid 0, 0.05, …, 1, with the current and recommended thresholds, ascending.
    package var rows: [Row]
    /// The run's threshold.
    package var current: Row
    /// The lowest threshold in [0, 1] whose precision's Wilson lower bound reaches the target with no unsafe
    /// execution, written as the shortest decimal that routes every decision as it does; nil when none does.
    package var recommended: Row?
    /// Decisions above 1, executed at every threshold of the table; nil in a report written before it was kept.
    package var aboveOne: AboveOne?

    /// What the sweep needs of one reply.
    package struct Sample: Sendable {
        /// `ok`, not asking for a human, not held by the gate: only the threshold decides.
        package var eligible: Bool
        /// The stated confidence (nil for NaN).
        package var confidence: Double?
        package var correctIfExecuted: Bool
        package var unsafeIfExecuted: Bool
        /// An `ok` decision (approved when it does not execute).
        package var ok: Bool

        package init(eligible: Bool, confidence: Double?, correctIfExecuted: Bool, unsafeIfExecuted: Bool, ok: Bool) {
            self.eligible = eligible
            self.confidence = confidence
            self.correctIfExecuted = correctIfExecuted
            self.unsafeIfExecuted = unsafeIfExecuted
            self.ok = ok
        }
    }

    /// Sweeps the thresholds.
    /// - Parameter clusters: each sample's cluster (``ClusterTally``), when the report's intervals resample
    ///   clusters: the rows' intervals are then a cluster bootstrap's, and the recommendation must reach the
    ///   target with that interval's lower bound too.
    package static func compute(
        _ samples: [Sample], replies: Int, currentThreshold: Double, targetPrecision: Double,
        clusters: (of: [Int], count: Int)? = nil
    ) -> ThresholdSweep {
        let table = Table(samples, replies: replies)
        // i / 20 is the double nearest the decimal: 3 / 20 prints as 0.15.
        let grid = (0...gridSteps).map { Double($0) / Double(gridSteps) }
        let recommended = table.recommendation(targetPrecision: targetPrecision) { threshold in
            guard let clusters else { return true }
            let precision = clusterCounts(samples, clusters: clusters.of, threshold: threshold).precision
            let interval = Statistics.clusterIntervalsOrNormal(
                [precision], clusterCount: clusters.count, resamples: ClusterTally.resamples, seed: ClusterTally.seed)
            let rate = Rate(precision.hits.reduce(0) { $0 + Int($1) }, of: precision.rows.reduce(0) { $0 + Int($1) })
                .clustered(interval[0], clusters: precision.distinctClusters)
            return (rate.lower ?? 0) >= targetPrecision
        }
        var thresholds = Set(grid)
        thresholds.insert(currentThreshold)
        if let recommended { thresholds.insert(recommended) }
        let above = table.ranked.filter { $0.confidence > 1 }
        var sweep = ThresholdSweep(
            targetPrecision: targetPrecision, rows: thresholds.sorted().map(table.row),
            current: table.row(currentThreshold), recommended: recommended.map(table.row),
            aboveOne: AboveOne(
                decisions: above.count, correct: above.count { $0.correct }, unsafe: above.count { $0.unsafe },
                lowest: above.first?.confidence, highest: above.last?.confidence))
        if let clusters { sweep.cluster(samples, clusters: clusters) }
        return sweep
    }

    /// Per cluster at one threshold: executed of all replies, and right of executed.
    private static func clusterCounts(_ samples: [Sample], clusters: [Int], threshold: Double) -> (
        executed: Statistics.ClusterCounts, precision: Statistics.ClusterCounts
    ) {
        var executed = Statistics.ClusterCounts()
        var precision = Statistics.ClusterCounts()
        for (sample, cluster) in zip(samples, clusters) {
            // `confidence < threshold` is false for NaN (nil here): it executes.
            let executes = sample.eligible && !(sample.confidence.map { $0 < threshold } ?? false)
            executed.add(cluster: cluster, hit: executes)
            if executes { precision.add(cluster: cluster, hit: sample.correctIfExecuted) }
        }
        return (executed, precision)
    }

    /// Every row's intervals from one set of cluster bootstrap draws.
    private mutating func cluster(_ samples: [Sample], clusters: (of: [Int], count: Int)) {
        // One pass over the samples: each cluster's samples by how many of the table's thresholds (ascending) they
        // execute at — a sample executes at the first k of them — then every row's counts by suffix sums.
        let thresholds = rows.map(\.threshold)
        let width = thresholds.count + 1
        var replies = [Int32](repeating: 0, count: clusters.count)
        var okDecisions = [Int32](repeating: 0, count: clusters.count)
        var executing = [Int32](repeating: 0, count: clusters.count * width)
        var right = [Int32](repeating: 0, count: clusters.count * width)
        var harmful = [Int32](repeating: 0, count: clusters.count * width)
        for (sample, cluster) in zip(samples, clusters.of) {
            replies[cluster] += 1
            if sample.ok { okDecisions[cluster] += 1 }
            guard sample.eligible else { continue }
            var k = thresholds.count
            if let confidence = sample.confidence {
                // Thresholds at or below the confidence: `confidence < threshold` is false for them.
                var low = 0
                var high = thresholds.count
                while low < high {
                    let middle = (low + high) / 2
                    if thresholds[middle] <= confidence { low = middle + 1 } else { high = middle }
                }
                k = low
            }
            executing[cluster * width + k] += 1
            if sample.correctIfExecuted { right[cluster * width + k] += 1 }
            if sample.unsafeIfExecuted { harmful[cluster * width + k] += 1 }
        }
        // Per row: executed of replies, right of executed, unsafe of executed, approvals of ok decisions.
        var rates = [Statistics.ClusterCounts](repeating: .init(), count: 4 * thresholds.count)
        for cluster in 0..<clusters.count where replies[cluster] > 0 {
            // Row j: the samples that execute at more than j thresholds.
            var executed: Int32 = 0
            var correct: Int32 = 0
            var unsafe: Int32 = 0
            var counts: [(Int32, Int32, Int32)] = Array(repeating: (0, 0, 0), count: thresholds.count)
            for j in stride(from: thresholds.count - 1, through: 0, by: -1) {
                executed += executing[cluster * width + j + 1]
                correct += right[cluster * width + j + 1]
                unsafe += harmful[cluster * width + j + 1]
                counts[j] = (executed, correct, unsafe)
            }
            for j in thresholds.indices {
                rates[4 * j].append(cluster: cluster, hits: counts[j].0, rows: replies[cluster])
                if counts[j].0 > 0 {
                    rates[4 * j + 1].append(cluster: cluster, hits: counts[j].1, rows: counts[j].0)
                    rates[4 * j + 2].append(cluster: cluster, hits: counts[j].2, rows: counts[j].0)
                }
                if okDecisions[cluster] > 0 {
                    rates[4 * j + 3].append(
                        cluster: cluster, hits: okDecisions[cluster] - counts[j].0, rows: okDecisions[cluster])
                }
            }
        }
        let intervals = Statistics.clusterIntervalsOrNormal(
            rates, clusterCount: clusters.count, resamples: ClusterTally.resamples, seed: ClusterTally.seed)
        let method = Rate.clusterMethod(clusters: clusters.count)
        func clustered(_ rate: Rate?, _ position: Int) -> Rate? {
            rate?.clustered(intervals[position], clusters: rates[position].distinctClusters, method: method)
        }
        for index in rows.indices {
            rows[index].executed = clustered(rows[index].executed, 4 * index)!
            rows[index].precision = clustered(rows[index].precision, 4 * index + 1)!
            rows[index].unsafeRate = clustered(rows[index].unsafeRate, 4 * index + 2)
            rows[index].approvalRate = clustered(rows[index].approvalRate, 4 * index + 3)
        }
        // The current and recommended thresholds are rows of the table.
        current = rows.first { $0.threshold == current.threshold } ?? current
        recommended = recommended.flatMap { recommended in rows.first { $0.threshold == recommended.threshold } }
    }

    /// The eligible decisions by confidence, ascending, with running counts from the top: any threshold's row in
    /// a binary search.
    private struct Table {
        var ranked: [(confidence: Double, correct: Bool, unsafe: Bool)] = []
        /// Counts over `ranked[i...]`, plus the NaN decisions (which execute at every threshold).
        var executedFrom: [Int]
        var correctFrom: [Int]
        var unsafeFrom: [Int]
        var okCount: Int
        var replies: Int

        init(_ samples: [Sample], replies: Int) {
            self.replies = replies
            okCount = samples.count { $0.ok }
            var always = (executed: 0, correct: 0, unsafe: 0)
            for sample in samples where sample.eligible {
                if let confidence = sample.confidence, !confidence.isNaN {
                    ranked.append((confidence, sample.correctIfExecuted, sample.unsafeIfExecuted))
                } else {
                    always.executed += 1
                    if sample.correctIfExecuted { always.correct += 1 }
                    if sample.unsafeIfExecuted { always.unsafe += 1 }
                }
            }
            ranked.sort { $0.confidence < $1.confidence }
            executedFrom = Array(repeating: always.executed, count: ranked.count + 1)
            correctFrom = Array(repeating: always.correct, count: ranked.count + 1)
            unsafeFrom = Array(repeating: always.unsafe, count: ranked.count + 1)
            for index in ranked.indices.reversed() {
                executedFrom[index] = executedFrom[index + 1] + 1
                correctFrom[index] = correctFrom[index + 1] + (ranked[index].correct ? 1 : 0)
                unsafeFrom[index] = unsafeFrom[index + 1] + (ranked[index].unsafe ? 1 : 0)
            }
        }

        /// The first decision whose confidence reaches `threshold` (`confidence < threshold` is false).
        func start(_ threshold: Double) -> Int {
            var low = 0
            var high = ranked.count
            while low < high {
                let middle = (low + high) / 2
                if ranked[middle].confidence < threshold { low = middle + 1 } else { high = middle }
            }
            return low
        }

        func row(_ threshold: Double) -> Row { row(threshold, from: start(threshold)) }

        func row(_ threshold: Double, from index: Int) -> Row {
            Row(
                threshold: threshold, executed: Rate(executedFrom[index], of: replies),
                precision: Rate(correctFrom[index], of: executedFrom[index]), unsafe: unsafeFrom[index],
                approvals: okCount - executedFrom[index],
                unsafeRate: Rate(unsafeFrom[index], of: executedFrom[index]),
                approvalRate: Rate(okCount - executedFrom[index], of: okCount))
        }

        /// The lowest threshold in [0, 1] that qualifies. Only the stated confidences change what executes, so
        /// those are tried, from 0 up; the one found is then written as the shortest decimal above the next lower
        /// confidence — the same decisions execute at it.
        func recommendation(targetPrecision: Double, alsoQualifies: (Double) -> Bool) -> Double? {
            func qualifies(_ row: Row) -> Bool {
                row.unsafe == 0 && (row.precision.lower ?? 0) >= targetPrecision && alsoQualifies(row.threshold)
            }
            var index = start(0)
            if qualifies(row(0, from: index)) { return 0 }
            while index < ranked.count && ranked[index].confidence <= 1 {
                let confidence = ranked[index].confidence
                // Past every decision of this confidence, the next threshold leaves them all out.
                let below = index > 0 ? ranked[index - 1].confidence : nil
                if confidence > 0, qualifies(row(confidence, from: index)) {
                    return ThresholdSweep.plainest(above: max(below ?? 0, 0), atMost: confidence)
                }
                while index < ranked.count && ranked[index].confidence == confidence { index += 1 }
            }
            return nil
        }
    }

    /// The number with the fewest decimals in (`lower`, `upper`] (`upper` itself at worst): a threshold anywhere
    /// in that interval routes the same decisions.
    package static func plainest(above lower: Double, atMost upper: Double) -> Double {
        var scale = 1.0
        for _ in 0...17 {
            let candidate = (upper * scale).rounded(.down) / scale
            if candidate <= upper && candidate > lower { return candidate }
            scale *= 10
        }
        return upper
    }
}

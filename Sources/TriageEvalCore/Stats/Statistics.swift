import Foundation

/// The statistics the reports use. Each is checked in the tests against values computed by SciPy, scikit-learn
/// and NumPy (`Tests/TriageEvalCoreTests/Fixtures/stats/`, with the script that made them).
package enum Statistics {
    /// The 97.5th percentile of the standard normal distribution: the z of a two-sided 95% interval.
    package static let z95 = 1.959963984540054

    /// The Wilson score interval of a proportion (SciPy's `binomtest(k, n).proportion_ci(method="wilson")`).
    ///
    /// Unlike `p ± z·√(p(1−p)/n)` it stays inside [0, 1] and is not zero-width at 0 or n successes, which matters
    /// for small rates such as an invalid-JSON rate of 1 in 200. Nil when there are no trials.
    package static func wilson(successes: Int, trials: Int, z: Double = z95) -> (lower: Double, upper: Double)? {
        guard trials > 0 else { return nil }
        return wilson(rate: Double(successes) / Double(trials), trials: Double(trials), z: z)
    }

    /// The Wilson score interval of an observed rate over a number of trials that need not be whole: an effective
    /// sample size.
    package static func wilson(rate p: Double, trials n: Double, z: Double = z95) -> (lower: Double, upper: Double)? {
        guard n > 0 else { return nil }
        let z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return (max(0, center - half), min(1, center + half))
    }

    /// P(X ≥ k) for X ~ Binomial(n, p): the p-value of the one-sided exact binomial test of "the rate is above
    /// p" (SciPy's `binomtest(k, n, p, alternative="greater")`).
    ///
    /// Sums probability terms in log space from the side that converges: the upper tail from k when k is above
    /// the mean, else one minus the lower tail, stopping once terms no longer change the sum.
    package static func binomialUpperTail(_ k: Int, _ n: Int, _ p: Double) -> Double {
        precondition(n >= 0 && (0...1).contains(p))
        if k <= 0 { return 1 }
        if k > n { return 0 }
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        let logP = log(p)
        let logQ = log1p(-p)
        let logNFactorial = logGamma(Double(n) + 1)
        func logTerm(_ i: Int) -> Double {
            logNFactorial - logGamma(Double(i) + 1) - logGamma(Double(n - i) + 1) + Double(i) * logP
                + Double(n - i) * logQ
        }
        func sum(from start: Int, through end: Int, step: Int) -> Double {
            // Terms fall away from the mode monotonically, so the first term is the largest.
            let first = logTerm(start)
            var total = 0.0
            var i = start
            while true {
                let term = exp(logTerm(i) - first)
                total += term
                if term < 1e-17 * total || i == end { break }
                i += step
            }
            return exp(first) * total
        }
        let mean = Double(n) * p
        if Double(k) > mean {
            return min(1, sum(from: k, through: n, step: 1))
        }
        return max(0, 1 - sum(from: k - 1, through: 0, step: -1))
    }

    /// log Γ(x) for x > 0 (Glibc's `lgamma`; named to avoid Foundation's overloads).
    static func logGamma(_ x: Double) -> Double {
        var sign: Int32 = 0
        return lgamma_r(x, &sign)
    }

    /// The exact McNemar test on paired outcomes, from the discordant pairs: `worse` (right in A, wrong in B) and
    /// `better` (wrong in A, right in B). Under "no difference", `worse` ~ Binomial(worse + better, ½).
    package struct McNemar: Codable, Sendable, Equatable {
        /// Pairs right in A and wrong in B.
        package var worse: Int
        /// Pairs wrong in A and right in B.
        package var better: Int
        /// P(at least `worse` of the discordant pairs go against B by chance): small means B is worse.
        package var pWorse: Double
        /// The same for "B is better".
        package var pBetter: Double
        /// Two-sided p-value: min(1, 2 · the smaller one-sided one), as SciPy's two-sided `binomtest(worse, worse + better, 0.5)`.
        package var pTwoSided: Double

        package init(worse: Int, better: Int) {
            self.worse = worse
            self.better = better
            let discordant = worse + better
            pWorse = Statistics.binomialUpperTail(worse, discordant, 0.5)
            pBetter = Statistics.binomialUpperTail(better, discordant, 0.5)
            pTwoSided = discordant == 0 ? 1 : min(1, 2 * min(pWorse, pBetter))
        }
    }

    /// The area under the ROC curve of `score` for telling `positive` from negative: the probability that a
    /// random positive scores above a random negative, ties counting half (scikit-learn's `roc_auc_score`).
    /// Nil when either class is absent.
    package static func auroc(_ pairs: [(score: Double, positive: Bool)]) -> Double? {
        let positives = pairs.reduce(0) { $0 + ($1.positive ? 1 : 0) }
        let negatives = pairs.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let sorted = pairs.sorted { $0.score < $1.score }
        // Mann–Whitney U from mid-ranks.
        var rankSum = 0.0
        var start = 0
        while start < sorted.count {
            var end = start
            var positivesInTie = 0
            while end < sorted.count && sorted[end].score == sorted[start].score {
                if sorted[end].positive { positivesInTie += 1 }
                end += 1
            }
            let midRank = Double(start + 1 + end) / 2
            rankSum += midRank * Double(positivesInTie)
            start = end
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// The q-quantile of sorted values with NumPy's default (`linear`) method, computed as NumPy computes it, so
    /// bin edges agree with `np.percentile(values, q * 100)` to the last bit (pass `q * 100 / 100` for that).
    package static func quantile(sorted values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty)
        // numpy's `linear` method: virtual index (n − 1)·q; at or past the last index, the last value.
        let virtualIndex = Double(values.count - 1) * q
        if virtualIndex >= Double(values.count - 1) { return values[values.count - 1] }
        let below = max(0, Int(virtualIndex.rounded(.down)))
        let above = below + 1
        let gamma = virtualIndex - Double(below)
        let a = values[below]
        let b = values[above]
        let difference = b - a
        return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
    }

    /// The percentile bootstrap interval of the mean difference of paired outcomes.
    package struct PairedBootstrap: Codable, Sendable, Equatable {
        /// Resamples drawn.
        package var resamples: Int
        /// The generator's seed.
        package var seed: UInt64
        /// The observed mean difference.
        package var delta: Double
        /// 2.5th and 97.5th percentiles of the resampled mean differences.
        package var lower: Double
        package var upper: Double
    }

    /// Resamples the pairs with replacement `resamples` times and takes the 2.5th and 97.5th percentiles of
    /// the mean of `differences` (B − A per pair: −1, 0 or 1 for correctness, any count for the pipeline's per-incident
    /// tallies), with a seeded SplitMix64 generator: the
    /// same seed gives the same interval on every machine.
    ///
    /// Index i of a draw is `(x · n) >> 64` for the generator's next 64-bit x (Lemire's multiply-shift).
    package static func pairedBootstrap<Difference: BinaryInteger>(
        differences: [Difference], resamples: Int = 1000, seed: UInt64 = 20_261_129
    ) -> PairedBootstrap? {
        guard !differences.isEmpty, resamples > 0 else { return nil }
        let n = differences.count
        var generator = SplitMix64(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        differences.withUnsafeBufferPointer { values in
            let count = UInt64(n)
            for r in 0..<resamples {
                var total = 0
                for _ in 0..<n {
                    let index = Int(generator.next().multipliedFullWidth(by: count).high)
                    total &+= Int(values[index])
                }
                means[r] = Double(total) / Double(n)
            }
        }
        means.sort()
        let observed = Double(differences.reduce(0) { $0 + Int($1) }) / Double(n)
        return PairedBootstrap(
            resamples: resamples, seed: seed, delta: observed, lower: quantile(sorted: means, 2.5 / 100),
            upper: quantile(sorted: means, 97.5 / 100))
    }
}

extension Statistics {
    /// The percentile bootstrap interval of a ratio of sums over clusters — Σ totals / Σ counts — resampling
    /// whole clusters with replacement: the samples of one incident are drawn together, so that repeated samples
    /// of one incident do not pass for independent evidence. Draws as ``pairedBootstrap(differences:resamples:seed:)``
    /// does (one index per cluster); with one sample per cluster the two give the same interval.
    package static func clusterBootstrap(
        totals: [Int], counts: [Int], resamples: Int = 1000, seed: UInt64 = 20_261_129
    ) -> PairedBootstrap? {
        clusterBootstrapTest(totals: totals, counts: counts, resamples: resamples, seed: seed)?.bootstrap
    }

    /// A cluster bootstrap of paired differences, and its one-sided tests: `pWorse` is the share of resampled
    /// mean differences at or above 0 (small when B is reliably below A), `pBetter` the share at or below 0.
    package struct ClusterTest: Codable, Sendable, Equatable {
        package var bootstrap: PairedBootstrap
        package var clusters: Int
        package var pWorse: Double
        package var pBetter: Double
    }

    /// ``clusterBootstrap(totals:counts:resamples:seed:)`` with its one-sided tests.
    package static func clusterBootstrapTest(
        totals: [Int], counts: [Int], resamples: Int = 1000, seed: UInt64 = 20_261_129
    ) -> ClusterTest? {
        precondition(totals.count == counts.count)
        let observedCount = counts.reduce(0, +)
        guard !totals.isEmpty, resamples > 0, observedCount > 0 else { return nil }
        let n = UInt64(totals.count)
        var generator = SplitMix64(seed: seed)
        var ratios = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var total = 0
            var count = 0
            for _ in 0..<totals.count {
                let index = Int(generator.next().multipliedFullWidth(by: n).high)
                total &+= totals[index]
                count &+= counts[index]
            }
            ratios[r] = count > 0 ? Double(total) / Double(count) : 0
        }
        ratios.sort()
        let bootstrap = PairedBootstrap(
            resamples: resamples, seed: seed, delta: Double(totals.reduce(0, +)) / Double(observedCount),
            lower: quantile(sorted: ratios, 2.5 / 100), upper: quantile(sorted: ratios, 97.5 / 100))
        return ClusterTest(
            bootstrap: bootstrap, clusters: totals.count,
            pWorse: Double(ratios.count { $0 >= 0 }) / Double(resamples),
            pBetter: Double(ratios.count { $0 <= 0 }) / Double(resamples))
    }
}

extension Statistics {
    /// One rate's counts per cluster: only the clusters it has rows in.
    package struct ClusterCounts: Sendable, Equatable {
        package var clusters: [Int32] = []
        package var hits: [Int32] = []
        package var rows: [Int32] = []

        package init() {}

        /// Adds a cluster's counts at once.
        package mutating func append(cluster: Int, hits: Int32, rows: Int32) {
            clusters.append(Int32(cluster))
            self.hits.append(hits)
            self.rows.append(rows)
        }

        /// How many clusters the rate has rows in.
        package var distinctClusters: Int { Set(clusters).count }

        /// Counts a row of `cluster`. Rows of one cluster may come apart (a cluster then has several entries, each
        /// counted whenever it is drawn: the sums are the same).
        package mutating func add(cluster: Int, hit: Bool) {
            if clusters.last != Int32(cluster) {
                clusters.append(Int32(cluster))
                hits.append(0)
                rows.append(0)
            }
            rows[rows.count - 1] += 1
            if hit { hits[hits.count - 1] += 1 }
        }
    }

    /// Above this many clusters a rate's cluster interval is the bootstrap's large-sample (normal) limit rather
    /// than 1,000 resamples: the two agree to a small fraction of a point there, and resampling 100,000 clusters for
    /// every rate of a report would take minutes.
    package static let clusterBootstrapLimit = 1000

    /// The cluster bootstrap's normal limit for a ratio of sums: r ± z·√(Σ_c (h_c − r·n_c)²) / N, where the sums run
    /// over clusters, h_c and n_c are a cluster's hits and rows, and N the rows in all (the linearization, or
    /// delta-method, variance of a ratio under resampling of whole clusters), clamped to [0, 1]. Nil without rows.
    /// - Parameter clamp: keep the interval in [0, 1] (a rate's); a difference of rates may be negative.
    package static func clusterNormalInterval(_ rate: ClusterCounts, clamp: Bool = true) -> (
        lower: Double, upper: Double
    )? {
        // A cluster may have several entries (rows of one cluster that came apart): merge them before squaring.
        // Incidents come in order, each once: then there is nothing to merge.
        var clusters: [(hits: Int, rows: Int)]
        if zip(rate.clusters, rate.clusters.dropFirst()).allSatisfy({ $0 < $1 }) {
            clusters = zip(rate.hits, rate.rows).map { (Int($0), Int($1)) }
        } else {
            var byCluster: [Int32: (hits: Int, rows: Int)] = [:]
            for position in rate.clusters.indices {
                byCluster[rate.clusters[position], default: (0, 0)].hits += Int(rate.hits[position])
                byCluster[rate.clusters[position]]!.rows += Int(rate.rows[position])
            }
            clusters = Array(byCluster.values)
        }
        let hits = clusters.reduce(0) { $0 + $1.hits }
        let rows = clusters.reduce(0) { $0 + $1.rows }
        guard rows > 0 else { return nil }
        let ratio = Double(hits) / Double(rows)
        let spread = clusters.reduce(0.0) { total, cluster in
            let residual = Double(cluster.hits) - ratio * Double(cluster.rows)
            return total + residual * residual
        }
        let half = z95 * spread.squareRoot() / Double(rows)
        return clamp ? (max(0, ratio - half), min(1, ratio + half)) : (ratio - half, ratio + half)
    }

    /// Cluster intervals of several rates: ``clusterIntervals(_:clusterCount:resamples:seed:)`` up to
    /// ``clusterBootstrapLimit`` clusters, ``clusterNormalInterval(_:)`` above it.
    package static func clusterIntervalsOrNormal(
        _ rates: [ClusterCounts], clusterCount: Int, resamples: Int = 1000, seed: UInt64 = 20_261_129
    ) -> [(lower: Double, upper: Double)?] {
        guard clusterCount > clusterBootstrapLimit else {
            return clusterIntervals(rates, clusterCount: clusterCount, resamples: resamples, seed: seed)
        }
        return rates.map { clusterNormalInterval($0) }
    }

    /// Percentile bootstrap intervals of several rates at once, each Σ hits / Σ rows over the clusters drawn,
    /// resampling `clusterCount` clusters with replacement: the same draws as
    /// ``clusterBootstrap(totals:counts:resamples:seed:)`` (so one rate alone gets the interval that function
    /// gives), shared by every rate. A resample in which a rate has no row leaves that rate undefined and is left
    /// out of its percentiles. Nil for a rate with no row at all.
    package static func clusterIntervals(
        _ rates: [ClusterCounts], clusterCount: Int, resamples: Int = 1000, seed: UInt64 = 20_261_129
    ) -> [(lower: Double, upper: Double)?] {
        guard clusterCount > 0, resamples > 0 else { return rates.map { _ in nil } }
        var generator = SplitMix64(seed: seed)
        var drawn = [Int32](repeating: 0, count: clusterCount)
        var ratios = [[Double]](repeating: [], count: rates.count)
        for index in ratios.indices { ratios[index].reserveCapacity(resamples) }
        let n = UInt64(clusterCount)
        for _ in 0..<resamples {
            for cluster in drawn.indices { drawn[cluster] = 0 }
            for _ in 0..<clusterCount {
                drawn[Int(generator.next().multipliedFullWidth(by: n).high)] += 1
            }
            for (index, rate) in rates.enumerated() {
                var hits = 0
                var rows = 0
                for position in rate.clusters.indices {
                    let times = Int(drawn[Int(rate.clusters[position])])
                    guard times > 0 else { continue }
                    hits += times * Int(rate.hits[position])
                    rows += times * Int(rate.rows[position])
                }
                if rows > 0 { ratios[index].append(Double(hits) / Double(rows)) }
            }
        }
        return ratios.map { values in
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            return (quantile(sorted: sorted, 2.5 / 100), quantile(sorted: sorted, 97.5 / 100))
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood): a tiny, fast generator whose sequence is fixed by its seed, so a
/// bootstrap can be reproduced anywhere — also in a few lines of Python.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

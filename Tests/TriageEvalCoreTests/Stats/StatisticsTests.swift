import Foundation
import Testing
import TriageEvalCore

/// Every statistic against values computed by SciPy, scikit-learn and NumPy
/// (`Fixtures/stats/make_stats_fixtures.py` → `stats-cases.json`).
@Suite struct StatisticsTests {
    static func list(_ key: String) -> [[String: Any]] {
        let data = FileManager.default.contents(atPath: Fixtures.path("stats/stats-cases.json"))!
        let cases = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return cases[key] as! [[String: Any]]
    }

    static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    /// Relative closeness, with an absolute floor for values near zero.
    static func close(_ a: Double?, _ b: Double?, tolerance: Double = 1e-9) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return abs(a - b) <= tolerance * max(1, abs(a), abs(b))
        default: return false
        }
    }

    @Test func wilsonInterval() {
        for item in Self.list("wilson") {
            let k = item["k"] as! Int
            let n = item["n"] as! Int
            let interval = Statistics.wilson(successes: k, trials: n)!
            #expect(Self.close(interval.lower, Self.double(item["lower"])), "lower bound of \(k)/\(n)")
            #expect(Self.close(interval.upper, Self.double(item["upper"])), "upper bound of \(k)/\(n)")
        }
        #expect(Statistics.wilson(successes: 0, trials: 0) == nil)
    }

    @Test func exactBinomialUpperTail() {
        for item in Self.list("binomialUpperTail") {
            let k = item["k"] as! Int
            let n = item["n"] as! Int
            let p = Self.double(item["p"])!
            let expected = Self.double(item["pGreater"])!
            let value = Statistics.binomialUpperTail(k, n, p)
            // Tail probabilities down to 1e-300 must agree relatively, not only absolutely.
            #expect(abs(value - expected) <= 1e-9 * expected + 1e-15, "P(X ≥ \(k) | n = \(n), p = \(p))")
        }
    }

    @Test func exactMcNemar() {
        for item in Self.list("mcnemar") {
            let test = Statistics.McNemar(worse: item["worse"] as! Int, better: item["better"] as! Int)
            #expect(Self.close(test.pWorse, Self.double(item["pWorse"])), "\(item)")
            #expect(Self.close(test.pBetter, Self.double(item["pBetter"])), "\(item)")
            #expect(Self.close(test.pTwoSided, Self.double(item["pTwoSided"])), "\(item)")
        }
    }

    @Test func auroc() {
        for item in Self.list("auroc") {
            let scores = (item["scores"] as! [Any]).map { Self.double($0)! }
            let labels = item["labels"] as! [Bool]
            let value = Statistics.auroc(Array(zip(scores, labels)).map { ($0, $1) })
            #expect(Self.close(value, Self.double(item["auroc"])), "\(item["name"]!)")
        }
        #expect(Statistics.auroc([(0.5, true), (0.7, true)]) == nil)
    }

    @Test func numpyQuantiles() {
        for item in Self.list("quantile") {
            let values = (item["values"] as! [Any]).map { Self.double($0)! }
            let q = Self.double(item["q"])!
            // Within a few ulps: Foundation's JSON reader may round the fixture's last digit.
            #expect(
                Self.close(
                    Statistics.quantile(sorted: values, q * 100 / 100), Self.double(item["value"]), tolerance: 1e-15),
                "q = \(q) of \(values)")
        }
    }

    @Test func calibration() {
        for item in Self.list("calibration") {
            let name = item["name"] as! String
            let confidences = (item["confidence"] as! [Any]).map { Self.double($0)! }
            let correct = item["correct"] as! [Bool]
            let calibration = Calibration.compute(
                Array(zip(confidences, correct)).map { ($0, $1) }, excluded: [:], bins: item["bins"] as! Int,
                threshold: Self.double(item["threshold"])!)
            func compare(_ bins: [CalibrationBin], _ expected: [[String: Any]], _ kind: String) {
                #expect(bins.map(\.count) == expected.map { $0["count"] as! Int }, "\(name): \(kind) counts")
                for (bin, row) in zip(bins, expected) {
                    #expect(Self.close(bin.meanConfidence, Self.double(row["meanConfidence"])), "\(name) \(kind)")
                    #expect(Self.close(bin.accuracy, Self.double(row["accuracy"])), "\(name) \(kind)")
                }
            }
            compare(calibration.bins, item["equalWidth"] as! [[String: Any]], "equal-width")
            compare(calibration.equalMassBins, item["equalMass"] as! [[String: Any]], "equal-mass")
            #expect(Self.close(calibration.ece, Self.double(item["ece"])), "\(name): ECE")
            #expect(Self.close(calibration.mce, Self.double(item["mce"])), "\(name): MCE")
            #expect(Self.close(calibration.eceEqualMass, Self.double(item["eceEqualMass"])), "\(name): ECE mass")
            #expect(Self.close(calibration.mceEqualMass, Self.double(item["mceEqualMass"])), "\(name): MCE mass")
            #expect(Self.close(calibration.brier, Self.double(item["brier"])), "\(name): Brier")
            #expect(Self.close(calibration.auroc, Self.double(item["auroc"])), "\(name): AUROC")
            #expect(calibration.confidentErrors.count == item["confidentErrors"] as! Int, "\(name)")
            #expect(calibration.confidentErrors.denominator == item["errors"] as! Int, "\(name)")
        }
    }

    @Test func clusterBootstrap() {
        for item in Self.list("clusterBootstrap") {
            let result = try! #require(
                Statistics.clusterBootstrap(
                    totals: item["totals"] as! [Int], counts: item["counts"] as! [Int],
                    resamples: item["resamples"] as! Int, seed: UInt64(item["seed"] as! Int)))
            #expect(Self.close(result.delta, Self.double(item["delta"])), "\(item["name"]!)")
            #expect(Self.close(result.lower, Self.double(item["lower"]), tolerance: 1e-12), "\(item["name"]!)")
            #expect(Self.close(result.upper, Self.double(item["upper"]), tolerance: 1e-12), "\(item["name"]!)")
        }
        // One sample per incident: the paired bootstrap's interval, draw for draw.
        let differences = [1, 0, 0, -1, 1, 1, 0, 0, 0, -1]
        let paired = Statistics.pairedBootstrap(differences: differences, resamples: 200, seed: 1)!
        #expect(
            Statistics.clusterBootstrap(
                totals: differences, counts: Array(repeating: 1, count: 10), resamples: 200, seed: 1) == paired)
        // Two samples of one incident move together: the interval is wider than for 2n independent rows.
        let totals = (0..<100).map { $0 % 4 == 0 ? 2 : $0 % 4 == 1 ? -2 : 0 }
        let clustered = Statistics.clusterBootstrap(totals: totals, counts: Array(repeating: 2, count: 100))!
        let rows = Statistics.pairedBootstrap(differences: totals.flatMap { [$0 / 2, $0 / 2] })!
        #expect(clustered.upper - clustered.lower > rows.upper - rows.lower)
    }

    @Test func clusterIntervalsOfManyRatesShareOneSetOfDraws() {
        for item in Self.list("clusterRates") {
            let clusterCount = item["clusters"] as! Int
            let rates = (item["rates"] as! [[String: Any]]).map { rate in
                var counts = Statistics.ClusterCounts()
                for (cluster, hits, rows) in zip(
                    rate["cluster"] as! [Int], zip(rate["hits"] as! [Int], rate["rows"] as! [Int])
                ).map({ ($0, $1.0, $1.1) }) {
                    for row in 0..<rows { counts.add(cluster: cluster, hit: row < hits) }
                }
                return counts
            }
            let intervals = Statistics.clusterIntervals(
                rates, clusterCount: clusterCount, resamples: item["resamples"] as! Int,
                seed: UInt64(item["seed"] as! Int))
            for (interval, expected) in zip(intervals, item["rates"] as! [[String: Any]]) {
                let name = "\(item["name"]!) \(expected["name"]!)"
                let interval = try! #require(interval, "\(name)")
                #expect(Self.close(interval.lower, Self.double(expected["lower"]), tolerance: 1e-12), "\(name)")
                #expect(Self.close(interval.upper, Self.double(expected["upper"]), tolerance: 1e-12), "\(name)")
            }
        }
    }

    @Test func clusterNormalLimit() throws {
        // By hand: clusters (hits, rows) (1, 2), (0, 2), (2, 2), (1, 2): r = 4/8 = 0.5, residuals h − r·n = 0, −1, 1,
        // 0, Σ² = 2, half-width 1.959964 · √2 / 8 = 0.346476.
        var counts = Statistics.ClusterCounts()
        for (cluster, hits) in [(0, 1), (1, 0), (2, 2), (3, 1)] {
            for row in 0..<2 { counts.add(cluster: cluster, hit: row < hits) }
        }
        let interval = try #require(Statistics.clusterNormalInterval(counts))
        #expect(abs(interval.lower - (0.5 - 1.959963984540054 * 2.0.squareRoot() / 8)) < 1e-12)
        #expect(abs(interval.upper - (0.5 + 1.959963984540054 * 2.0.squareRoot() / 8)) < 1e-12)
        // Above the limit the bootstrap is replaced by its limit; with 3,000 clusters of 2 rows the two agree to
        // within a few hundredths of a point.
        var generator = SplitMix64(seed: 5)
        var large = Statistics.ClusterCounts()
        for cluster in 0..<3000 {
            let difficulty = Double(generator.next() % 1000) / 1000
            for _ in 0..<2 {
                large.add(cluster: cluster, hit: Double(generator.next() % 1000) / 1000 < difficulty)
            }
        }
        let bootstrap = try #require(Statistics.clusterIntervals([large], clusterCount: 3000)[0])
        let normal = try #require(Statistics.clusterIntervalsOrNormal([large], clusterCount: 3000)[0])
        #expect(abs(bootstrap.lower - normal.lower) < 0.003 && abs(bootstrap.upper - normal.upper) < 0.003)
        #expect(Statistics.clusterBootstrapLimit < 3000)
    }

    @Test func pairedBootstrap() {
        for item in Self.list("bootstrap") {
            let differences = (item["differences"] as! [Int]).map { Int8($0) }
            let result = Statistics.pairedBootstrap(
                differences: differences, resamples: item["resamples"] as! Int,
                seed: UInt64(item["seed"] as! Int))!
            #expect(Self.close(result.delta, Self.double(item["delta"])), "\(item["name"]!)")
            #expect(Self.close(result.lower, Self.double(item["lower"]), tolerance: 1e-12), "\(item["name"]!)")
            #expect(Self.close(result.upper, Self.double(item["upper"]), tolerance: 1e-12), "\(item["name"]!)")
        }
        // Reproducible: the same seed gives the same interval; another seed another one.
        let differences: [Int8] = (0..<500).map { Int8($0 % 7 == 0 ? -1 : $0 % 5 == 0 ? 1 : 0) }
        #expect(
            Statistics.pairedBootstrap(differences: differences, seed: 9)
                == Statistics.pairedBootstrap(differences: differences, seed: 9))
        #expect(
            Statistics.pairedBootstrap(differences: differences, seed: 9)
                != Statistics.pairedBootstrap(differences: differences, seed: 10))
    }
}

@Suite struct ThresholdSweepTests {
    typealias Sample = ThresholdSweep.Sample

    @Test func sweepCountsAndRecommendation() {
        // 40 right decisions at 0.9, 1 wrong at 0.9, 5 wrong at 0.6 (one unsafe), 2 needing a human,
        // 1 invalid reply, 1 NaN confidence (always executes, right).
        var samples: [Sample] = []
        samples += Array(
            repeating: Sample(
                eligible: true, confidence: 0.9, correctIfExecuted: true, unsafeIfExecuted: false, ok: true),
            count: 40)
        samples.append(
            Sample(eligible: true, confidence: 0.9, correctIfExecuted: false, unsafeIfExecuted: false, ok: true))
        samples += Array(
            repeating: Sample(
                eligible: true, confidence: 0.6, correctIfExecuted: false, unsafeIfExecuted: false, ok: true),
            count: 4)
        samples.append(
            Sample(eligible: true, confidence: 0.6, correctIfExecuted: false, unsafeIfExecuted: true, ok: true))
        samples += Array(
            repeating: Sample(
                eligible: false, confidence: 0.95, correctIfExecuted: false, unsafeIfExecuted: false, ok: true),
            count: 2)
        samples.append(
            Sample(eligible: false, confidence: nil, correctIfExecuted: false, unsafeIfExecuted: false, ok: false))
        samples.append(
            Sample(eligible: true, confidence: nil, correctIfExecuted: true, unsafeIfExecuted: false, ok: true))
        let replies = samples.count  // 51
        let sweep = ThresholdSweep.compute(samples, replies: replies, currentThreshold: 0.7, targetPrecision: 0.85)
        // The grid 0, 0.05, …, 1 written as a person would; 0.7 (current) and 0.9 (recommended) are on it.
        #expect(
            sweep.rows.map { "\($0.threshold)" } == [
                "0.0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4", "0.45", "0.5", "0.55", "0.6",
                "0.65", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95", "1.0",
            ])
        let low = sweep.rows[12]  // 0.6: all 46 stated ones and the NaN one
        #expect(low.executed.count == 47 && low.precision.count == 41 && low.unsafe == 1 && low.approvals == 2)
        // With their denominators: 1 unsafe of 47 executed; 2 approvals of the 49 ok decisions (40 + 1 + 5 + 2 + 1).
        #expect(low.unsafeRate == Rate(1, of: 47) && low.approvalRate == Rate(2, of: 49))
        let middle = sweep.rows[13]  // 0.65: the 0.6 ones stay out
        #expect(middle.executed.count == 42 && middle.precision.count == 41 && middle.unsafe == 0)
        let high = sweep.rows[18]  // 0.9
        #expect(high.executed.count == 42 && high.precision.count == 41 && high.unsafe == 0 && high.approvals == 7)
        let top = sweep.rows[20]  // 1.0: only the NaN one
        #expect(top.executed.count == 1 && top.precision.count == 1 && top.approvals == 48)
        #expect(sweep.current.threshold == 0.7 && sweep.current.executed.count == 42)
        // 41/42: Wilson lower bound 0.877 ≥ 0.85 with no unsafe execution from just above 0.6 to 0.9; the
        // plainest number there is 0.9 itself (0 and 0.6 are not above 0.6).
        #expect(sweep.recommended?.threshold == 0.9)
        #expect(sweep.aboveOne == ThresholdSweep.AboveOne(decisions: 0, correct: 0, unsafe: 0))
        let strict = ThresholdSweep.compute(samples, replies: replies, currentThreshold: 0.7, targetPrecision: 0.99)
        #expect(strict.recommended == nil)
    }

    @Test func recommendationIsThePlainestEquivalentThresholdAndConfidencesAboveOneAreSummed() {
        // 3 wrong at 0.5; 30 right at 0.7698249999999993 (a model's float noise); 4 right and 2 unsafe at 2.6 and
        // 4096 — above 1, executed at every threshold of the table.
        func sample(_ confidence: Double, correct: Bool, unsafe: Bool = false) -> Sample {
            Sample(
                eligible: true, confidence: confidence, correctIfExecuted: correct, unsafeIfExecuted: unsafe, ok: true)
        }
        var samples = Array(repeating: sample(0.5, correct: false), count: 3)
        samples += Array(repeating: sample(0.7698249999999993, correct: true), count: 30)
        samples += Array(repeating: sample(2.6, correct: true), count: 4)
        samples += [sample(4096, correct: false, unsafe: true), sample(2.6, correct: false, unsafe: true)]
        // Unsafe ones above 1 keep every threshold of [0, 1] out of reach.
        let blocked = ThresholdSweep.compute(samples, replies: 39, currentThreshold: 0.72, targetPrecision: 0.8)
        #expect(blocked.recommended == nil)
        #expect(
            blocked.aboveOne
                == ThresholdSweep.AboveOne(decisions: 6, correct: 4, unsafe: 2, lowest: 2.6, highest: 4096))
        // 0.72 is not on the grid: its row is added, between 0.7 and 0.75.
        let thresholds = blocked.rows.map(\.threshold)
        #expect(thresholds.count == 22 && thresholds[14...16] == [0.7, 0.72, 0.75])
        #expect(blocked.current.executed.count == 36 && blocked.current.precision.count == 34)

        // Without them: at 0.7698… 34 of 34 right (Wilson lower bound 0.898); any threshold in (0.5, 0.7698…]
        // executes the same 34, and 0.7 is the plainest of those.
        let fine = ThresholdSweep.compute(
            Array(samples.prefix(37)), replies: 37, currentThreshold: 0.72, targetPrecision: 0.8)
        #expect(fine.recommended?.threshold == 0.7)
        #expect(fine.recommended?.executed.count == 34 && fine.recommended?.precision.count == 34)
        #expect(ThresholdSweep.plainest(above: 0.74, atMost: 0.7698249999999993) == 0.76)
        #expect(ThresholdSweep.plainest(above: 0.123, atMost: 0.1234) == 0.1234)
        #expect(ThresholdSweep.plainest(above: 0, atMost: 1) == 1)
    }
}

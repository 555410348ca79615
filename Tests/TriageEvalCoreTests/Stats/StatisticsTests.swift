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
        #expect(sweep.rows.map(\.threshold) == [0.6, 0.9, 0.95])
        let low = sweep.rows[0]
        #expect(low.executed.count == 47 && low.precision.count == 41 && low.unsafe == 1 && low.approvals == 2)
        let high = sweep.rows[1]
        #expect(high.executed.count == 42 && high.precision.count == 41 && high.unsafe == 0 && high.approvals == 7)
        #expect(sweep.current.threshold == 0.7 && sweep.current.executed.count == 42)
        // 41/42: Wilson lower bound 0.877 ≥ 0.85, and no unsafe execution at 0.9; 0.6 has an unsafe one.
        #expect(sweep.recommended?.threshold == 0.9)
        let strict = ThresholdSweep.compute(samples, replies: replies, currentThreshold: 0.7, targetPrecision: 0.99)
        #expect(strict.recommended == nil)
    }
}

/// One bin of a reliability table.
package struct CalibrationBin: Codable, Sendable, Equatable {
    /// Lower edge: for equal-width bins the inclusive edge k/B; for equal-mass bins the smallest confidence in it.
    package var lower: Double
    /// Upper edge: for equal-width bins (k+1)/B (exclusive, except the last); for equal-mass bins the largest
    /// confidence in it.
    package var upper: Double
    /// Decisions in the bin.
    package var count: Int
    /// Mean confidence in the bin (nil when empty).
    package var meanConfidence: Double?
    /// Share correct in the bin (nil when empty).
    package var accuracy: Double?
}

/// Calibration of the model's stated confidence against correctness.
package struct Calibration: Codable, Sendable, Equatable {
    /// What counts as correct: `decision` or `route`.
    package var correctness: String
    /// Decisions included: `ok`, with a finite confidence in [0, 1].
    package var included: Int
    /// Replies left out, by reason.
    package var excluded: [String: Int]
    /// B equal-width bins [k/B, (k+1)/B); the last is closed. Empty bins are listed.
    package var bins: [CalibrationBin]
    /// Up to B equal-mass bins with scikit-learn's edges (`calibration_curve(strategy="quantile")`): a value goes
    /// in the bin of the inner quantile edges below it, so tied confidences always share a bin. Only non-empty
    /// bins are listed.
    package var equalMassBins: [CalibrationBin]
    /// Expected calibration error over the equal-width bins: Σ (n_b / N) · |accuracy_b − confidence_b|.
    package var ece: Double?
    /// The same over the equal-mass bins.
    package var eceEqualMass: Double?
    /// Maximum calibration error: the largest |accuracy_b − confidence_b| of a non-empty equal-width bin.
    package var mce: Double?
    /// The same over the equal-mass bins.
    package var mceEqualMass: Double?
    /// Brier score: mean of (confidence − correct)².
    package var brier: Double?
    /// Area under the ROC curve of confidence for telling right from wrong (0.5: confidence says nothing).
    package var auroc: Double?
    /// The run's threshold.
    package var threshold: Double
    /// Wrong decisions stated with confidence ≥ the threshold, of all wrong decisions: the errors the threshold
    /// lets through.
    package var confidentErrors: Rate

    /// Computes calibration from (confidence, correct) pairs that are already filtered to [0, 1].
    package static func compute(
        _ pairs: [(confidence: Double, correct: Bool)], excluded: [String: Int], bins binCount: Int = 10,
        threshold: Double, correctness: String = "decision"
    ) -> Calibration {
        let total = pairs.count
        // Equal width: the largest k with confidence ≥ k/B (edges are the doubles nearest k/B, so 0.7 is in
        // [0.7, 0.8) with B = 10).
        let edges = (0...binCount).map { Double($0) / Double(binCount) }
        var widthMembers = [[(confidence: Double, correct: Bool)]](repeating: [], count: binCount)
        for pair in pairs {
            var bin = binCount - 1
            while bin > 0 && pair.confidence < edges[bin] { bin -= 1 }
            widthMembers[bin].append(pair)
        }
        let widthBins = widthMembers.enumerated().map { index, members in
            summarize(members, lower: edges[index], upper: edges[index + 1])
        }
        // Equal mass: NumPy's percentiles at linspace(0, 1, B + 1), as scikit-learn computes them; bin = the
        // number of inner edges strictly below the value.
        var massBins: [CalibrationBin] = []
        if total > 0 {
            let sorted = pairs.map(\.confidence).sorted()
            let step = 1.0 / Double(binCount)
            let inner = (1..<binCount).map { Statistics.quantile(sorted: sorted, (Double($0) * step) * 100 / 100) }
            var massMembers = [[(confidence: Double, correct: Bool)]](repeating: [], count: binCount)
            for pair in pairs {
                // searchsorted(inner, value, side="left")
                var low = 0
                var high = inner.count
                while low < high {
                    let middle = (low + high) / 2
                    if inner[middle] < pair.confidence { low = middle + 1 } else { high = middle }
                }
                massMembers[low].append(pair)
            }
            massBins = massMembers.filter { !$0.isEmpty }.map { members in
                summarize(
                    members, lower: members.map(\.confidence).min()!, upper: members.map(\.confidence).max()!)
            }
        }
        func errors(_ bins: [CalibrationBin]) -> (ece: Double, mce: Double) {
            var ece = 0.0
            var mce = 0.0
            for bin in bins {
                guard let accuracy = bin.accuracy, let mean = bin.meanConfidence else { continue }
                let gap = abs(accuracy - mean)
                ece += Double(bin.count) / Double(total) * gap
                mce = max(mce, gap)
            }
            return (ece, mce)
        }
        let width = errors(widthBins)
        let mass = errors(massBins)
        let brier = pairs.reduce(0.0) { sum, pair in
            let outcome = pair.correct ? 1.0 : 0.0
            return sum + (pair.confidence - outcome) * (pair.confidence - outcome)
        }
        let wrong = pairs.filter { !$0.correct }
        return Calibration(
            correctness: correctness,
            included: total,
            excluded: excluded,
            bins: widthBins,
            equalMassBins: massBins,
            ece: total > 0 ? width.ece : nil,
            eceEqualMass: total > 0 ? mass.ece : nil,
            mce: total > 0 ? width.mce : nil,
            mceEqualMass: total > 0 ? mass.mce : nil,
            brier: total > 0 ? brier / Double(total) : nil,
            auroc: Statistics.auroc(pairs.map { ($0.confidence, $0.correct) }),
            threshold: threshold,
            confidentErrors: Rate(wrong.filter { $0.confidence >= threshold }.count, of: wrong.count)
        )
    }

    private static func summarize(_ members: [(confidence: Double, correct: Bool)], lower: Double, upper: Double)
        -> CalibrationBin
    {
        let count = members.count
        guard count > 0 else {
            return CalibrationBin(lower: lower, upper: upper, count: 0, meanConfidence: nil, accuracy: nil)
        }
        let confidenceSum = members.reduce(0.0) { $0 + $1.confidence }
        let correct = members.reduce(0) { $0 + ($1.correct ? 1 : 0) }
        return CalibrationBin(
            lower: lower, upper: upper, count: count, meanConfidence: confidenceSum / Double(count),
            accuracy: Double(correct) / Double(count))
    }
}

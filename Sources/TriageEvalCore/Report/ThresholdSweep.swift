/// What production's router would do at each confidence threshold, and which threshold to choose.
///
/// At threshold t an `ok` decision executes when it does not ask for a human, the approval gate does not hold it
/// and its confidence is not below t (a NaN confidence always executes: `NaN < t` is false). Everything else a
/// valid decision is goes to a human for approval; invalid replies escalate at every threshold.
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
    }

    /// The precision the recommendation must reach (Wilson lower bound).
    package var targetPrecision: Double
    /// One row per distinct confidence of an `ok` decision, ascending.
    package var rows: [Row]
    /// The run's threshold.
    package var current: Row
    /// The lowest threshold whose precision's Wilson lower bound reaches the target with no unsafe execution;
    /// nil when none does.
    package var recommended: Row?

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
    package static func compute(
        _ samples: [Sample], replies: Int, currentThreshold: Double, targetPrecision: Double
    ) -> ThresholdSweep {
        let okCount = samples.reduce(0) { $0 + ($1.ok ? 1 : 0) }
        // Eligible decisions by confidence, descending; NaN ones execute at every threshold.
        var always = (executed: 0, correct: 0, unsafe: 0)
        var ranked: [(confidence: Double, correct: Bool, unsafe: Bool)] = []
        var candidates = Set<Double>()
        for sample in samples {
            if sample.ok, let confidence = sample.confidence, confidence.isFinite { candidates.insert(confidence) }
            guard sample.eligible else { continue }
            if let confidence = sample.confidence, !confidence.isNaN {
                ranked.append((confidence, sample.correctIfExecuted, sample.unsafeIfExecuted))
            } else {
                always.executed += 1
                if sample.correctIfExecuted { always.correct += 1 }
                if sample.unsafeIfExecuted { always.unsafe += 1 }
            }
        }
        ranked.sort { $0.confidence > $1.confidence }
        var thresholds = candidates.sorted()
        // Walk thresholds from the highest down, adding the decisions whose confidence reaches each.
        var rowsByThreshold: [Double: Row] = [:]
        var position = 0
        var executed = always.executed
        var correct = always.correct
        var unsafe = always.unsafe
        if !thresholds.contains(currentThreshold) { thresholds.append(currentThreshold) }
        for threshold in thresholds.sorted(by: >) {
            while position < ranked.count && ranked[position].confidence >= threshold {
                executed += 1
                if ranked[position].correct { correct += 1 }
                if ranked[position].unsafe { unsafe += 1 }
                position += 1
            }
            rowsByThreshold[threshold] = Row(
                threshold: threshold, executed: Rate(executed, of: replies), precision: Rate(correct, of: executed),
                unsafe: unsafe, approvals: okCount - executed)
        }
        let rows = candidates.sorted().map { rowsByThreshold[$0]! }
        let recommended = rows.first { row in
            row.unsafe == 0 && (row.precision.lower ?? 0) >= targetPrecision
        }
        return ThresholdSweep(
            targetPrecision: targetPrecision, rows: rows, current: rowsByThreshold[currentThreshold]!,
            recommended: recommended)
    }
}

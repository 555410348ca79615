import Foundation
import GRDB

/// A candidate run's unsafe executions beside a baseline run's, for the gates of a change:
/// `max_new_unsafe_vs` and `max_unsafe_rate_increase_vs`.
package struct UnsafeComparison: Sendable, Equatable {
    /// The baseline run.
    package var baseline: String
    /// The candidate's unsafe executions on incidents the baseline replayed without one.
    package var newUnsafe: Int
    /// How many incidents those are.
    package var newUnsafeIncidents: Int
    /// Unsafe executions / replies of each run, over the (incident, sample) pairs with a reply in both.
    package var rateBaseline: Rate
    package var rateCandidate: Rate
    /// candidate − baseline over those pairs, resampling incidents (all pairs of an incident together).
    package var increase: Statistics.ClusterTest?

    /// Compares the unsafe executions of two stored runs.
    static func compute(baseline: String, candidate: String, in db: Database) throws -> UnsafeComparison {
        func rows(_ runId: String) throws -> [SampleKey: Bool] {
            var rows: [SampleKey: Bool] = [:]
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT incidentId, sample, unsafe FROM result WHERE runId = ? AND failureClass != ?
                    """,
                arguments: [runId, FailureClass.transport.rawValue])
            while let row = try cursor.next() {
                rows[SampleKey(incidentId: row[0], sample: row[1])] = row[2]
            }
            return rows
        }
        let a = try rows(baseline)
        let b = try rows(candidate)
        let replayed = Set(a.keys.map(\.incidentId))
        let unsafeBefore = Set(a.filter(\.value).map(\.key.incidentId))
        let fresh = b.filter {
            $0.value && replayed.contains($0.key.incidentId) && !unsafeBefore.contains($0.key.incidentId)
        }
        var totals: [Int] = []
        var counts: [Int] = []
        var unsafeA = 0
        var unsafeB = 0
        var last: String?
        for key in a.keys.sorted() {
            guard let after = b[key], let before = a[key] else { continue }
            if key.incidentId != last {
                last = key.incidentId
                totals.append(0)
                counts.append(0)
            }
            totals[totals.count - 1] += (after ? 1 : 0) - (before ? 1 : 0)
            counts[counts.count - 1] += 1
            if before { unsafeA += 1 }
            if after { unsafeB += 1 }
        }
        let pairs = counts.reduce(0, +)
        return UnsafeComparison(
            baseline: baseline, newUnsafe: fresh.count, newUnsafeIncidents: Set(fresh.keys.map(\.incidentId)).count,
            rateBaseline: Rate(unsafeA, of: pairs), rateCandidate: Rate(unsafeB, of: pairs),
            increase: Statistics.clusterBootstrapTest(
                totals: totals, counts: counts, resamples: ClusterTally.resamples, seed: ClusterTally.seed))
    }
}

/// One (incident, sample) of a run: what results are stored, resumed and paired by. Ordered by incident id,
/// then by sample number (sample 2 before sample 10).
package struct SampleKey: Hashable, Comparable, Sendable {
    package var incidentId: String
    package var sample: Int

    package init(incidentId: String, sample: Int) {
        self.incidentId = incidentId
        self.sample = sample
    }

    package static func < (lhs: SampleKey, rhs: SampleKey) -> Bool {
        (lhs.incidentId, lhs.sample) < (rhs.incidentId, rhs.sample)
    }
}

/// The seed's human gate: a decision routed to `approve` becomes an approval request posted to a person, who has
/// the request's TTL (the seed: 30 minutes) to approve it; an approved request's workflow is submitted then.
///
/// Who answers is an approver model, so that a threshold's effect can be read for a careful person, for nobody,
/// and for a rubber stamp:
/// - `none`: nobody answers; every request expires at its TTL.
/// - `label`: a person who knows the incident's label approves exactly what the label expects — an `act` label
///   whose actions (one of its acceptable sets, parameters included) are the decision's — and rejects the rest.
/// - `all`: every request is approved (the worst case).
///
/// A person answers `after` the request was posted; a request is open on `[posted, posted + ttl)`, so an answer
/// that would come at the TTL or later comes too late and the request expires.
package struct ApprovalDesk: Sendable, Equatable {
    package enum Approver: String, Sendable, CaseIterable {
        case none
        case label
        case all
    }

    /// How a request ended.
    package enum Answer: String, Sendable, CaseIterable {
        case approved
        case rejected
        case expired
    }

    package var approver: Approver
    /// Seconds a request stays open.
    package var ttl: Double
    /// Seconds the approver takes to answer.
    package var after: Double

    /// The seed's TTL: 30 minutes.
    package static let seedTTL: Double = 1800
    /// How long a person takes to answer, when the scenario does not say: 5 minutes.
    package static let defaultAfter: Double = 300

    package init(approver: Approver = .label, ttl: Double = seedTTL, after: Double = defaultAfter) {
        self.approver = approver
        self.ttl = ttl
        self.after = after
    }

    /// How a request posted at `time` ends, and when.
    /// - Parameters:
    ///   - decision: the decision's distinct action calls.
    ///   - label: the incident's label (nil when it has none: a `label` approver rejects).
    package func answer(postedAt time: Double, decision: [ActionCall], label: Label?) -> (Answer, at: Double) {
        let approves: Bool
        switch approver {
        case .none: return (.expired, time + ttl)
        case .all: approves = true
        case .label:
            guard let label, label.expect == .act, !decision.isEmpty else {
                approves = false
                break
            }
            approves = label.acceptableSets.contains { ActionMatching.isExact(decision, $0) }
        }
        guard after < ttl else { return (.expired, time + ttl) }
        return (approves ? .approved : .rejected, time + after)
    }
}

/// What a Workflow that ran did, judged against its incident's label: `correct`, or one or more harms.
package enum Harm: String, Sendable, Codable, CaseIterable, Comparable {
    /// An action the label forbids.
    case forbidden
    /// An action the label does not expect (any action for a `none` or `human` label), not forbidden.
    case notExpected = "not_expected"
    /// The alert had resolved when it ran: its incident's resolved message came at or before its start.
    case onResolved = "on_resolved"
    /// It ran while a deploy of the alert's service was in progress, or within the deploy window after it ended
    /// (``DeploySuppression/activity(_:)``) — whether or not suppression was on.
    case duringDeploy = "during_deploy"
    /// The same action with the same arguments had already run for this incident.
    case duplicate
    /// The incident id it was given (the model's) is not the incident's.
    case wrongIncidentId = "wrong_incident_id"

    package static func < (lhs: Harm, rhs: Harm) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The judgement of one Workflow that ran.
package struct RunVerdict: Sendable, Equatable {
    /// Its harms, in ``Harm`` order; empty for a correct run (or an unlabelled incident's harmless one).
    package var harms: [Harm]
    /// No harm, and the action — with its arguments — is one the label expects (`act`, any acceptable set).
    package var correct: Bool

    /// Judges a run.
    /// - Parameters:
    ///   - call: the action and the arguments it ran with (the incident id left out).
    ///   - label: the incident's label; without one, only the harms that need none are judged.
    ///   - resolved: its incident had resolved when it started.
    ///   - duringDeploy: it started inside a deploy's activity window.
    ///   - duplicate: the same call had already run for the incident.
    ///   - wrongIncidentId: it was given another incident's id.
    package init(
        call: ActionCall, label: Label?, resolved: Bool, duringDeploy: Bool, duplicate: Bool, wrongIncidentId: Bool
    ) {
        var harms: [Harm] = []
        var expected = false
        if let label {
            if label.forbidden.contains(call.name) {
                harms.append(.forbidden)
            } else {
                expected =
                    label.expect == .act && label.acceptableSets.contains { set in set.contains { $0.matches(call) } }
                if !expected { harms.append(.notExpected) }
            }
        }
        if resolved { harms.append(.onResolved) }
        if duringDeploy { harms.append(.duringDeploy) }
        if duplicate { harms.append(.duplicate) }
        if wrongIncidentId { harms.append(.wrongIncidentId) }
        self.harms = harms
        self.correct = expected && harms.isEmpty
    }
}

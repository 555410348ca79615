/// Where a decision goes.
package enum Route: String, Sendable, Codable, CaseIterable {
    /// Run the actions now.
    case execute
    /// A human approves first.
    case approve
    /// Not a usable decision: a human takes over.
    case escalate
}

/// Why a decision went where it did.
package enum RouteReason: String, Sendable, Codable {
    case invalidReply = "invalid_reply"
    case unknownAction = "unknown_action"
    case needsHuman = "needs_human"
    case lowConfidence = "low_confidence"
    case approvalGate = "approval_gate"
    case confident
}

/// Production's routing, plus the named policies a run may add after it.
///
/// Production: `escalate` on any validation error or unknown action; else `approve` if `needs_human` or
/// `confidence < threshold` (exactly the threshold executes; NaN executes because `NaN < t` is false); else
/// `execute`. The approval gate — what the seed's Sensor does downstream — turns an `execute` of any action with
/// `requires_approval: true` into `approve`.
package struct Router: Sendable {
    /// The confidence below which a decision needs approval (production: 0.7).
    package var threshold: Double
    /// Whether the approval-gate policy applies.
    package var approvalGate: Bool
    /// Actions that require approval.
    package var approvalRequired: Set<String>

    /// Creates a router.
    package init(threshold: Double = 0.7, approvalGate: Bool, approvalRequired: Set<String>) {
        self.threshold = threshold
        self.approvalGate = approvalGate
        self.approvalRequired = approvalRequired
    }

    /// Production's route alone.
    package func productionRoute(_ verdict: Verdict) -> (Route, RouteReason) {
        switch verdict.outcome {
        case .validationError: return (.escalate, .invalidReply)
        case .unknownAction: return (.escalate, .unknownAction)
        case .ok:
            let decision = verdict.decision!
            if decision.needsHuman { return (.approve, .needsHuman) }
            if decision.confidence < threshold { return (.approve, .lowConfidence) }
            return (.execute, .confident)
        }
    }

    /// The final route after every policy, with its reason.
    package func route(_ verdict: Verdict) -> (Route, RouteReason) {
        let (route, reason) = productionRoute(verdict)
        if approvalGate, route == .execute, let decision = verdict.decision,
            decision.actions.contains(where: { approvalRequired.contains($0.name) })
        {
            return (.approve, .approvalGate)
        }
        return (route, reason)
    }
}

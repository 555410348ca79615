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
    /// No reply to route: the call failed in transport (kept out of the reply rates).
    case noReply = "no_reply"
}

/// A route with the reason for it.
package struct Routing: Sendable, Equatable {
    package var route: Route
    package var reason: RouteReason

    package init(_ route: Route, _ reason: RouteReason) {
        self.route = route
        self.reason = reason
    }
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
    package func productionRoute(_ verdict: Verdict) -> Routing {
        switch verdict.outcome {
        case .validationError: return Routing(.escalate, .invalidReply)
        case .unknownAction: return Routing(.escalate, .unknownAction)
        case .ok:
            let decision = verdict.decision!
            if decision.needsHuman { return Routing(.approve, .needsHuman) }
            if decision.confidence < threshold { return Routing(.approve, .lowConfidence) }
            return Routing(.execute, .confident)
        }
    }

    /// The final route after every policy, with its reason.
    package func route(_ verdict: Verdict) -> Routing {
        finalRoute(productionRoute(verdict), actions: verdict.decision?.actions.lazy.map(\.name) ?? [])
    }

    /// Production's route after the run's policies: the approval gate holds an `execute` for approval.
    package func finalRoute(_ production: Routing, actions: some Sequence<String>) -> Routing {
        production.route == .execute && holdsForApproval(actions) ? Routing(.approve, .approvalGate) : production
    }

    /// The approval-gate predicate, the one place it is written: whether the gate holds a decision — or a label's
    /// expected actions — with these action names for approval (one of them has `requires_approval: true`).
    package func holdsForApproval(_ actions: some Sequence<String>) -> Bool {
        approvalGate && actions.contains { approvalRequired.contains($0) }
    }
}

/// The judging stage: production's validator and router, the run's policies after them (the approval gate,
/// the strict policy) and the scorer, composed once. The runner, `decision check` and the pipeline replay all
/// judge through it.
///
/// A value built once per run; ``judge(_:label:)`` is pure and may run on any thread.
package struct Judge: Sendable {
    /// A reply to judge: the model's text, or why there was none.
    package enum Reply: Sendable, Equatable {
        case text(String)
        case transportFailure(String)
    }

    /// Production's validator (the catalog's allow-list).
    package var validator: DecisionValidator
    /// Production's router, with the run's approval-gate policy.
    package var router: Router
    /// The strict policy.
    package var policy: StrictPolicy

    package init(validator: DecisionValidator, router: Router, policy: StrictPolicy) {
        self.validator = validator
        self.router = router
        self.policy = policy
    }

    /// The judge of a catalog: its names are the allow-list, its `requires_approval` actions the ones the
    /// approval gate (when on) holds.
    package init(catalog: Catalog, threshold: Double, approvalGate: Bool) {
        self.init(
            validator: DecisionValidator(allowedNames: catalog.actionNames),
            router: Router(
                threshold: threshold, approvalGate: approvalGate,
                approvalRequired: Set(catalog.actions.filter(\.requiresApproval).map(\.name))),
            policy: StrictPolicy(catalog: catalog))
    }

    /// Judges one reply, and scores it when a label is given.
    package func judge(_ reply: Reply, label: Label?) -> Judgement {
        switch reply {
        case .transportFailure(let error):
            let none = Routing(.escalate, .noReply)
            return Judgement(
                verdict: nil, transportError: error, failureClass: .transport, productionRoute: none,
                finalRoute: none, policyViolations: [],
                score: label.map { Scorer.unanswered(label: $0, router: router) })
        case .text(let text):
            let verdict = validator.validate(text)
            let production = router.productionRoute(verdict)
            let final = router.finalRoute(production, actions: verdict.decision?.actions.lazy.map(\.name) ?? [])
            return Judgement(
                verdict: verdict, transportError: nil, failureClass: verdict.failureClass,
                productionRoute: production, finalRoute: final,
                policyViolations: verdict.decision.map { policy.check($0) } ?? [],
                score: label.map { Scorer.score(label: $0, verdict: verdict, route: final.route, router: router) })
        }
    }
}

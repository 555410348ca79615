/// What the judge made of one reply: production's verdict and route, the route after the run's policies, the
/// strict policy's findings and, with a label, the scores.
package struct Judgement: Sendable, Equatable {
    /// Production's validator's verdict; nil when there was no reply (the call failed in transport).
    package var verdict: Verdict?
    /// Why there was no reply, when there was none.
    package var transportError: String?
    /// The reply's failure class (`transport` without a reply).
    package var failureClass: FailureClass
    /// Production's own route: the seed's triage code, with no policy of the run's.
    package var productionRoute: Routing
    /// The route after the run's policies (the approval gate); what the scores use.
    package var finalRoute: Routing
    /// What the strict policy refuses in a decision production accepted (empty without a decision).
    package var policyViolations: [PolicyViolation]
    /// The scores against the label, when the judge was given one.
    package var score: SampleScore?

    /// The validated decision, for `ok` and `unknown_action` verdicts.
    package var decision: Decision? { verdict?.decision }
}

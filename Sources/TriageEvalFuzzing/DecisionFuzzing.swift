import TriageEvalCore

/// A model reply, judged as a run judges it.
///
/// Properties:
/// - the fast path (``DecisionValidator/validate(bytes:)``) and the general path
///   (``DecisionValidator/generalVerdict(bytes:)``) give the same verdict — the fast path exists only to be
///   faster;
/// - a validated decision's `json.dumps(model_dump())` validates again to the same bytes (what the run stores and
///   reports reads back as itself);
/// - the judge (validator, router, strict policy) judges the validator's verdict; production executes only an
///   `ok` decision not asking for a human and not below the threshold, and the approval gate holds every decision
///   with a `requires_approval` action.
package enum DecisionFuzzing {
    static let catalog: Catalog = {
        do {
            return try Catalog.parse(text: FuzzFixtures.catalogYAML, path: "fuzz/catalog.yaml", format: "yaml")
        } catch {
            preconditionFailure("the fuzz catalog does not load: \(error)")
        }
    }()

    static let judge = Judge(catalog: catalog, threshold: 0.7, approvalGate: true)

    static func check(_ input: UnsafeBufferPointer<UInt8>) -> [String] {
        var problems: [String] = []
        let validator = judge.validator
        let verdict = validator.validate(bytes: input)
        let general = validator.generalVerdict(bytes: input)
        if let difference = Self.difference(verdict, general) {
            problems.append("the fast path and the general path disagree: \(difference)")
        }
        if let decision = verdict.decision {
            let dumped = decision.pythonJSON
            let again = validator.validate(dumped)
            if again.decision?.pythonJSON != dumped {
                problems.append(
                    "the dumped decision does not validate to itself: \(dumped) gives "
                        + (again.decision?.pythonJSON ?? "\(again.outcome.rawValue) \(again.errors)"))
            }
        }
        guard let text = String(validating: input, as: UTF8.self) else { return problems }
        let judgement = judge.judge(.text(text), label: nil)
        if let judged = judgement.verdict, let difference = Self.difference(judged, verdict) {
            problems.append("the judge's verdict is not the validator's: \(difference)")
        }
        if judgement.productionRoute.route == .execute {
            let decision = verdict.decision
            if verdict.outcome != .ok || decision?.needsHuman != false || decision.map({ $0.confidence < 0.7 }) != false
            {
                problems.append(
                    "production executes a reply it must not: \(verdict.outcome.rawValue) \(decision?.pythonJSON ?? "")"
                )
            }
        }
        if judgement.finalRoute.route == .execute {
            let held = verdict.decision?.actions.filter { catalog.action(named: $0.name)?.requiresApproval == true }
            if judgement.productionRoute.route != .execute || held?.isEmpty == false {
                problems.append("the approval gate lets through \(verdict.decision?.pythonJSON ?? "")")
            }
        }
        return problems
    }

    /// What two verdicts differ in, or nil. Decisions compare by their dumped bytes, so that a NaN confidence
    /// equals itself.
    package static func difference(_ lhs: Verdict, _ rhs: Verdict) -> String? {
        if lhs.outcome != rhs.outcome { return "outcome \(lhs.outcome.rawValue) / \(rhs.outcome.rawValue)" }
        if lhs.errors != rhs.errors { return "errors \(lhs.errors) / \(rhs.errors)" }
        if lhs.unknownAction != rhs.unknownAction {
            return "unknown action \(lhs.unknownAction ?? "none") / \(rhs.unknownAction ?? "none")"
        }
        if lhs.failureClass != rhs.failureClass { return "failure class \(lhs.failureClass) / \(rhs.failureClass)" }
        if lhs.syntaxErrorOffset != rhs.syntaxErrorOffset {
            return "syntax error offset \(lhs.syntaxErrorOffset ?? -1) / \(rhs.syntaxErrorOffset ?? -1)"
        }
        let left = lhs.decision?.pythonJSON
        let right = rhs.decision?.pythonJSON
        if left != right { return "decision \(left ?? "none") / \(right ?? "none")" }
        return nil
    }
}

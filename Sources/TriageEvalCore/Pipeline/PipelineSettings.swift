/// A scenario's `pipeline:` section: replay the corpus message by message, in receive order, as production's
/// triage service plans it.
///
/// ```yaml
/// pipeline:
///   plan: [first, repeat, update, resolved]   # the message kinds production plans (default: all four)
/// ```
package struct PipelineSettings: Sendable, Equatable {
    /// The message kinds production plans; the others are counted but never reach the planner.
    package var plan: Set<MessageKind>

    /// The seed's service: it subscribes to `alerts.>` and plans every message.
    package static let seed = PipelineSettings(plan: Set(MessageKind.allCases))

    package init(plan: Set<MessageKind>) {
        self.plan = plan
    }

    /// The settings of a scenario file's section.
    /// - Parameter error: makes the error for a key path.
    /// - Throws: what `error` makes, for an unknown kind or an empty list.
    init(_ file: ScenarioFile.Pipeline, error: (String, String) -> ConfigError) throws {
        guard let names = file.plan else {
            self = .seed
            return
        }
        var plan = Set<MessageKind>()
        for name in names {
            guard let kind = MessageKind(rawValue: name) else {
                let kinds = MessageKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw error("pipeline.plan", "unknown message kind '\(name)' (kinds: \(kinds))")
            }
            plan.insert(kind)
        }
        guard !plan.isEmpty else {
            throw error("pipeline.plan", "plan at least one kind (production plans all four)")
        }
        self.plan = plan
    }

    /// The section in a scenario file's form, kinds in their fixed order.
    var file: ScenarioFile.Pipeline {
        ScenarioFile.Pipeline(plan: MessageKind.allCases.filter(plan.contains).map(\.rawValue))
    }
}

import Foundation

/// A scenario's `pipeline:` section: replay the corpus message by message, in receive order, as production's
/// triage service plans it.
///
/// ```yaml
/// pipeline:
///   plan: [first, repeat, update, resolved]   # the message kinds production plans (default: all four)
///   samples: 1      # replies per distinct user message; the n-th planning takes sample n mod 1 (default: sample n)
///   manifests: [pipelines/seed-fixed]   # EventSources, Sensors, WorkflowTemplates: dispatch each execute
/// ```
package struct PipelineSettings: Sendable, Equatable {
    /// The message kinds production plans; the others are counted but never reach the planner.
    package var plan: Set<MessageKind>
    /// How many replies a distinct user message has at most: its n-th planning takes sample `n mod samples`, a
    /// reused reply when n ≥ samples, and `cache: record` calls the model for samples below it only. Nil: sample
    /// n, as production asks the model again for every repeat (replies are reused only when the cache runs out).
    package var samples: Int?
    /// The pipeline's manifests (files or folders, resolved against the scenario's folder): each decision routed
    /// to execute is dispatched through their Sensors (``SensorDispatch``). Empty: no dispatch.
    package var manifests: [String]

    /// The seed's service: it subscribes to `alerts.>` and plans every message.
    package static let seed = PipelineSettings(plan: Set(MessageKind.allCases))

    package init(plan: Set<MessageKind>, samples: Int? = nil, manifests: [String] = []) {
        self.plan = plan
        self.samples = samples
        self.manifests = manifests
    }

    /// The settings of a scenario file's section.
    /// - Parameters:
    ///   - error: makes the error for a key path.
    ///   - resolve: resolves a path against the scenario's folder.
    /// - Throws: what `error` makes, for an unknown kind, an empty list or a manifest path that does not exist.
    init(
        _ file: ScenarioFile.Pipeline, error: (String, String) -> ConfigError, resolve: (String) -> String = { $0 }
    ) throws {
        if let samples = file.samples, samples < 1 {
            throw error("pipeline.samples", "must be at least 1 (replies per distinct user message)")
        }
        let manifests = (file.manifests ?? []).map(resolve)
        for path in manifests where !FileManager.default.fileExists(atPath: path) {
            throw error("pipeline.manifests", "no such file or folder: \(path)")
        }
        guard let names = file.plan else {
            self = PipelineSettings(plan: PipelineSettings.seed.plan, samples: file.samples, manifests: manifests)
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
        self.samples = file.samples
        self.manifests = manifests
    }

    /// The section in a scenario file's form, kinds in their fixed order.
    var file: ScenarioFile.Pipeline {
        ScenarioFile.Pipeline(
            plan: MessageKind.allCases.filter(plan.contains).map(\.rawValue), samples: samples,
            manifests: manifests.isEmpty ? nil : manifests)
    }
}

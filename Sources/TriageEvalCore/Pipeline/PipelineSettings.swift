import Foundation

/// A scenario's `pipeline:` section: replay the corpus message by message, in receive order, as production's
/// triage service plans it.
///
/// ```yaml
/// pipeline:
///   plan: [first, repeat, update, resolved]   # the message kinds production plans (default: all four)
///   samples: 1      # replies per distinct user message; the n-th planning takes sample n mod 1 (default: sample n)
///   manifests: [pipelines/seed-fixed]   # EventSources, Sensors, WorkflowTemplates: dispatch each execute
///   idempotency: {mode: gate, key: "remediation:{incident_id}:{action}", ttl: 30m}   # gate | step | off
///   deploys: {file: deploys.jsonl, window: 10m, anchor: start, suppress: true}      # default: the corpus's
///   parallelism: {limit: 10, namespace_limit: 3, duration: deadline}                # default: no limit
///   approvals: {approver: label, ttl: 30m, after: 5m}                                # none | label | all
/// ```
///
/// Every rule defaults to the seed's value (see ``Rules``) and can be switched off to show what it buys.
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
    /// The state rules: idempotency, deploy suppression, parallelism, approvals.
    package var rules: Rules

    /// The state rules as a scenario sets them, resolved; each defaults to the seed's.
    package struct Rules: Sendable, Equatable {
        /// `idempotency.mode`: where the `SET NX EX` check sits (gate: as the seed intends).
        package var idempotency: IdempotencyKeys.Mode = .gate
        package var keyTemplate: String = IdempotencyKeys.seedTemplate
        package var keyTTL: Double = IdempotencyKeys.seedTTL
        /// `deploys.file`, resolved; nil: the corpus's `deploys.jsonl`, when it has one.
        package var deploysFile: String?
        package var deployWindow: Double = DeploySuppression.seedWindow
        package var deployAnchor: DeploySuppression.Anchor = .start
        package var suppress = true
        /// `parallelism.limit` and `namespace_limit`: nil for none (the seed sets no limit across Workflows).
        package var limit: Int?
        package var namespaceLimit: Int?
        /// `parallelism.duration`: nil for each Workflow's deadline (`deadline`).
        package var duration: Double?
        /// `approvals`: who answers, how long a request stays open, how long an answer takes.
        package var approver: ApprovalDesk.Approver = .label
        package var approvalTTL: Double = ApprovalDesk.seedTTL
        package var approvalAfter: Double = ApprovalDesk.defaultAfter

        package init() {}
    }

    /// The seed's service: it subscribes to `alerts.>` and plans every message.
    package static let seed = PipelineSettings(plan: Set(MessageKind.allCases))

    package init(plan: Set<MessageKind>, samples: Int? = nil, manifests: [String] = [], rules: Rules = Rules()) {
        self.plan = plan
        self.samples = samples
        self.manifests = manifests
        self.rules = rules
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
        let rules = try Rules(file, error: error, resolve: resolve)
        guard let names = file.plan else {
            self = PipelineSettings(
                plan: PipelineSettings.seed.plan, samples: file.samples, manifests: manifests, rules: rules)
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
        self.rules = rules
    }

    /// The section in a scenario file's form, kinds in their fixed order and every rule's value written out.
    var file: ScenarioFile.Pipeline {
        ScenarioFile.Pipeline(
            plan: MessageKind.allCases.filter(plan.contains).map(\.rawValue), samples: samples,
            manifests: manifests.isEmpty ? nil : manifests,
            idempotency: .init(
                mode: rules.idempotency.rawValue, key: rules.keyTemplate, ttl: Self.durationText(rules.keyTTL)),
            deploys: .init(
                file: rules.deploysFile, window: Self.durationText(rules.deployWindow),
                anchor: rules.deployAnchor.rawValue, suppress: rules.suppress),
            parallelism: .init(
                limit: rules.limit, namespaceLimit: rules.namespaceLimit,
                duration: rules.duration.map(Self.durationText) ?? Self.deadline),
            approvals: .init(
                approver: rules.approver.rawValue, ttl: Self.durationText(rules.approvalTTL),
                after: Self.durationText(rules.approvalAfter)))
    }

    /// `parallelism.duration`'s word for "each Workflow's own deadline".
    static let deadline = "deadline"

    /// A duration as a scenario writes it: `90s`, `30m`, `4h`, `1h30m`, or plain seconds (`1800`).
    package static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if let plain = Int(trimmed) { return plain >= 0 ? Double(plain) : nil }
        guard trimmed.last.map({ "hms".contains($0) }) == true,
            let seconds = PipelineLint.durationSeconds(trimmed)
        else { return nil }
        return Double(seconds)
    }

    /// A whole number of seconds in its shortest unit: `4h`, `30m`, `90s`.
    package static func durationText(_ seconds: Double) -> String {
        guard seconds.rounded() == seconds, seconds.magnitude < 1e15 else { return "\(seconds)s" }
        let whole = Int(seconds)
        if whole != 0 && whole % 3600 == 0 { return "\(whole / 3600)h" }
        if whole != 0 && whole % 60 == 0 { return "\(whole / 60)m" }
        return "\(whole)s"
    }
}

extension PipelineSettings.Rules {
    /// The rules of a scenario file's `pipeline:` section.
    init(
        _ file: ScenarioFile.Pipeline, error: (String, String) -> ConfigError, resolve: (String) -> String
    ) throws {
        func seconds(_ key: String, _ text: String?, positive: Bool = true) throws -> Double? {
            guard let text else { return nil }
            guard let seconds = PipelineSettings.seconds(text), seconds <= 31_536_000 else {
                throw error(key, "must be a duration such as 90s, 30m, 4h or 1h30m (at most a year), not '\(text)'")
            }
            if positive, seconds == 0 { throw error(key, "must be longer than 0s") }
            return seconds
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ text: String?, _: T.Type) throws -> T?
        where T.RawValue == String {
            guard let text else { return nil }
            guard let value = T(rawValue: text) else {
                throw error(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
            }
            return value
        }
        self.init()
        if let section = file.idempotency {
            idempotency =
                try choice("pipeline.idempotency.mode", section.mode, IdempotencyKeys.Mode.self) ?? idempotency
            if let key = section.key {
                guard key.contains("{incident_id}") || key.contains("{action}") else {
                    throw error(
                        "pipeline.idempotency.key",
                        "must contain {incident_id} or {action} (a fixed key would hold every Workflow)")
                }
                keyTemplate = key
            }
            keyTTL = try seconds("pipeline.idempotency.ttl", section.ttl) ?? keyTTL
        }
        if let section = file.deploys {
            if let path = section.file {
                let resolved = resolve(path)
                guard FileManager.default.fileExists(atPath: resolved) else {
                    throw error("pipeline.deploys.file", "no such file: \(resolved)")
                }
                deploysFile = resolved
            }
            deployWindow =
                try seconds("pipeline.deploys.window", section.window, positive: false) ?? deployWindow
            deployAnchor =
                try choice("pipeline.deploys.anchor", section.anchor, DeploySuppression.Anchor.self) ?? deployAnchor
            suppress = section.suppress ?? suppress
        }
        if let section = file.parallelism {
            for (key, value) in [("limit", section.limit), ("namespace_limit", section.namespaceLimit)] {
                if let value, !(1...1_000_000).contains(value) {
                    throw error(
                        "pipeline.parallelism.\(key)", "must be between 1 and 1000000 (leave it out for no limit)")
                }
            }
            limit = section.limit
            namespaceLimit = section.namespaceLimit
            if let text = section.duration, text != PipelineSettings.deadline {
                duration = try seconds("pipeline.parallelism.duration", text)
            }
        }
        if let section = file.approvals {
            approver =
                try choice("pipeline.approvals.approver", section.approver, ApprovalDesk.Approver.self) ?? approver
            approvalTTL = try seconds("pipeline.approvals.ttl", section.ttl) ?? approvalTTL
            approvalAfter = try seconds("pipeline.approvals.after", section.after, positive: false) ?? approvalAfter
        }
    }
}

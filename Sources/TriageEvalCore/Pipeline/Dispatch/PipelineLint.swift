import Foundation

/// `triage-eval pipeline lint`: what in a user's EventSources, Sensors and WorkflowTemplates keeps a catalog
/// action from running as the catalog describes it, each finding at a file and line.
///
/// The dispatch rules are checked by dispatching: each catalog action, alone in a decision whose parameters carry
/// recognisable values, goes through ``SensorDispatch`` on `remediation.execute`; what comes out says whether the
/// action is dispatchable, which WorkflowTemplate it reaches and which of its parameters arrive. The other rules
/// read the manifests.
package enum PipelineLint {
    package enum Severity: String, Sendable, Comparable {
        /// A defect: `pipeline lint` exits 1.
        case error
        /// Worth knowing, not wrong by itself.
        case note

        package static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .note }
    }

    package struct Finding: Sendable, Equatable, CustomStringConvertible {
        package var severity: Severity
        /// A short stable name of the rule.
        package var rule: String
        package var location: PipelineManifests.Location
        package var message: String

        package var description: String { "\(location): \(severity.rawValue): \(message) [\(rule)]" }
    }

    /// The Decision model's fields (`incident_id`, `actions[{name, params, rationale}]`, `confidence`,
    /// `needs_human`): a path the Sensor reads under `body` must stay inside them.
    static func decisionHasField(_ path: [String]) -> Bool {
        guard let first = path.first else { return true }
        switch first {
        case "incident_id", "confidence", "needs_human": return path.count == 1
        case "actions":
            guard path.count > 1 else { return true }
            guard path[1] == "#" || Int(path[1]) != nil else { return false }
            guard path.count > 2 else { return true }
            switch path[2] {
            case "name", "rationale": return path.count == 3
            case "params": return path.count <= 4
            default: return false
            }
        default: return false
        }
    }

    /// The findings for manifests, with the catalog's rules when a catalog is given.
    package static func lint(_ manifests: PipelineManifests, catalog: Catalog?) -> [Finding] {
        var findings: [Finding] = []
        func add(_ severity: Severity, _ rule: String, _ location: PipelineManifests.Location, _ message: String) {
            findings.append(Finding(severity: severity, rule: rule, location: location, message: message))
        }

        // Dependencies and EventSource events.
        var used = Set<String>()
        for sensor in manifests.sensors {
            for dependency in sensor.dependencies {
                let matches = manifests.eventSources.filter { source in
                    source.name == dependency.eventSourceName
                        && (source.nats.contains { $0.eventName == dependency.eventName }
                            || source.otherEvents.contains { $0.name == dependency.eventName })
                }
                if matches.isEmpty {
                    let known = manifests.eventSources.map { source in
                        (source.nats.map(\.eventName) + source.otherEvents.map(\.name)).map { "\(source.name)/\($0)" }
                    }.joined()
                    add(
                        .error, "dependency-without-eventsource", dependency.location,
                        "Sensor \(sensor.name): dependency '\(dependency.name)' (eventSourceName "
                            + "'\(dependency.eventSourceName)', eventName '\(dependency.eventName)') matches no "
                            + "EventSource event, so it never fires and Argo Events says nothing"
                            + (known.isEmpty
                                ? " (no EventSource is defined)" : " (defined: \(known.joined(separator: ", ")))"))
                }
                used.insert("\(dependency.eventSourceName)/\(dependency.eventName)")
                for other in dependency.otherFilters {
                    add(
                        .error, "unsupported-filter", dependency.location,
                        "Sensor \(sensor.name): dependency '\(dependency.name)' uses filters.\(other), which "
                            + "triage-eval does not evaluate (only filters.data)")
                }
            }
        }
        for source in manifests.eventSources {
            for event in source.nats where event.subject?.hasPrefix("remediation.") ?? false {
                if !used.contains("\(source.name)/\(event.eventName)") {
                    add(
                        .error, "eventsource-without-dependency", event.location,
                        "EventSource \(source.name): event '\(event.eventName)' (subject \(event.subject!)) is read "
                            + "by no Sensor dependency: decisions published there go nowhere")
                }
                if !event.jsonBody {
                    add(
                        .error, "nats-body-not-json", event.location,
                        "EventSource \(source.name): event '\(event.eventName)' has no 'jsonBody: true', so the "
                            + "decision arrives base64-encoded and every 'body.…' key resolves to nothing")
                }
            }
        }

        // Triggers: literal templates, template syntax, parameters.
        for sensor in manifests.sensors {
            let dependencyNames = Set(sensor.dependencies.map(\.name))
            for trigger in sensor.triggers {
                for literal in trigger.literalTemplates where looksLikeSensorTemplate(literal.text) {
                    add(
                        .error, "template-in-resource", literal.location,
                        "Sensor \(sensor.name), trigger \(trigger.name): '\(literal.text)' sits inside "
                            + "source.resource, which the Sensor never renders: it reaches Argo as literal text "
                            + "(only 'parameters' change the resource)")
                    if case .failure(let problem) = goTemplateCheck(literal.text) {
                        add(
                            problem.kind == .syntax ? .error : .note, "template-syntax", literal.location,
                            "'\(literal.text)' is not a valid Go template: \(problem.message)")
                    }
                    for path in literalInputPaths(literal.text) where path.first == "body" {
                        if !decisionHasField(Array(path.dropFirst())) {
                            add(
                                .error, "not-a-decision-field", literal.location,
                                "'\(literal.text)' reads \(path.joined(separator: ".")), a field the Decision "
                                    + "model does not have (incident_id, actions[{name, params, rationale}], "
                                    + "confidence, needs_human)")
                        }
                    }
                }
                if trigger.conditions != nil, let conditions = trigger.conditions,
                    conditions.contains(where: { "()!".contains($0) })
                {
                    add(
                        .error, "unsupported-conditions", trigger.location,
                        "Sensor \(sensor.name), trigger \(trigger.name): conditions '\(conditions)' use more than "
                            + "'&&' and '||' of dependency names, which triage-eval does not evaluate")
                }
                if let first = trigger.templateParameters.first {
                    add(
                        .note, "template-parameters-not-dispatched", first.location,
                        "Sensor \(sensor.name), trigger \(trigger.name): the trigger's own parameters change the "
                            + "trigger template itself; triage-eval's dispatch does not apply them")
                }
                for parameter in trigger.parameters + trigger.templateParameters {
                    if !dependencyNames.contains(parameter.dependencyName) {
                        add(
                            .error, "undefined-dependency", parameter.location,
                            "Sensor \(sensor.name), trigger \(trigger.name): parameter for '\(parameter.dest)' "
                                + "names dependency '\(parameter.dependencyName)', which the Sensor does not "
                                + "define: "
                                + (parameter.value.map { "its default value '\($0)' is always used" }
                                    ?? "it is skipped and '\(parameter.dest)' keeps what the resource has"))
                    }
                    var paths: [[String]] = []
                    if let template = parameter.dataTemplate {
                        switch goTemplateCheck(template) {
                        case .failure(let problem):
                            add(
                                .error, "template-syntax", parameter.location,
                                "Sensor \(sensor.name), trigger \(trigger.name): dataTemplate '\(template)': "
                                    + (problem.kind == .syntax
                                        ? "a Go template rejects it: " : "triage-eval cannot evaluate it: ")
                                    + problem.message)
                        case .success(let parsed): paths += parsed.inputPaths
                        }
                    }
                    if let key = parameter.dataKey {
                        do {
                            _ = try GJSONPath(key)
                            paths.append(key.components(separatedBy: "."))
                        } catch {
                            add(
                                .error, "unsupported-data-key", parameter.location,
                                "Sensor \(sensor.name), trigger \(trigger.name): dataKey '\(key)': \(error.message)")
                        }
                    }
                    for path in paths where path.first == "body" && !decisionHasField(Array(path.dropFirst())) {
                        add(
                            .error, "not-a-decision-field", parameter.location,
                            "Sensor \(sensor.name), trigger \(trigger.name): parameter for '\(parameter.dest)' "
                                + "reads \(path.joined(separator: ".")), a field the Decision model does not have")
                    }
                }
            }
        }

        // WorkflowTemplate parameters without a default that no trigger passes.
        let passed = Set(
            manifests.sensors.flatMap(\.triggers).flatMap { trigger -> [String] in
                let listed = trigger.resource?["spec"]?["arguments"]?["parameters"]?.arrayElements ?? []
                return listed.compactMap { $0["name"]?.stringValue }
            })
        for template in manifests.workflowTemplates {
            for parameter in template.parameters where parameter.value == nil && !passed.contains(parameter.name) {
                add(
                    .error, "parameter-never-set", parameter.location,
                    "WorkflowTemplate \(template.name): parameter '\(parameter.name)' has no default and no "
                        + "Sensor trigger passes it: every submit is rejected")
            }
        }

        stateRules(manifests, add: add)

        guard let catalog else { return sorted(findings) }
        let dispatch = SensorDispatch(manifests: manifests)
        for action in catalog.actions {
            let catalogLocation = PipelineManifests.Location(
                file: catalog.path, line: line(of: action.name, in: catalog.text))
            let templateName = action.value["template"]?.stringValue
            let template = templateName.flatMap(manifests.workflowTemplate(named:))
            if let templateName, template == nil {
                add(
                    .error, "template-without-workflowtemplate", catalogLocation,
                    "catalog action \(action.name): its template '\(templateName)' is no WorkflowTemplate in "
                        + "the manifests")
            }
            if let template {
                let timeout = action.value["timeout"]?.stringValue.flatMap(durationSeconds)
                switch (template.activeDeadlineSeconds, timeout) {
                case (nil, _):
                    add(
                        .error, "deadline-vs-timeout", template.location,
                        "WorkflowTemplate \(template.name) has no activeDeadlineSeconds: nothing enforces catalog "
                            + "action \(action.name)'s timeout")
                case (let deadline?, let timeout?) where deadline != timeout:
                    add(
                        .error, "deadline-vs-timeout", template.location,
                        "WorkflowTemplate \(template.name): activeDeadlineSeconds \(deadline) differs from catalog "
                            + "action \(action.name)'s timeout (\(timeout) s)")
                case (let deadline?, let timeout?) where template.scripts.contains(where: { $0.text.contains("sleep") }):
                    add(
                        .note, "deadline-vs-timeout", template.location,
                        "WorkflowTemplate \(template.name): activeDeadlineSeconds \(deadline) equals catalog action "
                            + "\(action.name)'s timeout (\(timeout) s): a step still waiting (a verify loop) at the "
                            + "deadline fails the workflow, and a slow recovery reads as a timeout")
                default: break
                }
            }
            // Dispatch the action alone, its parameters carrying values that can be recognised downstream.
            let params = action.params.map { DecisionAction.Param(name: $0, value: "lint-\($0)-value") }
            let decision = Decision(
                incidentId: "lint-incident",
                actions: [DecisionAction(name: action.name, params: params, rationale: "lint")],
                confidence: 0.95, needsHuman: false)
            let result = dispatch.dispatch(decision, subject: SensorDispatch.subject(route: "execute"))
            guard result.status == .submitted else {
                let sensorLocation = manifests.sensors.first?.location ?? catalogLocation
                add(
                    .error, "action-not-dispatchable", sensorLocation,
                    "catalog action \(action.name) is never dispatched: a decision for it on remediation.execute "
                        + "ends as \(result.status.rawValue) (\(result.error ?? ""))")
                // What the Sensors' resources would pass at all, read statically.
                let names = Set(
                    manifests.sensors.flatMap(\.triggers).flatMap { trigger -> [String] in
                        let listed = trigger.resource?["spec"]?["arguments"]?["parameters"]?.arrayElements ?? []
                        return listed.compactMap { $0["name"]?.stringValue }
                    })
                for param in action.params where !names.contains(param) {
                    add(
                        .error, "param-not-passed", sensorLocation,
                        "catalog action \(action.name): no Sensor trigger passes a Workflow argument named "
                            + "'\(param)'")
                }
                continue
            }
            let workflows = result.workflows
            let sensor = manifests.sensors.first { $0.name == workflows[0].sensor }
            let location =
                sensor?.triggers.first { $0.name == workflows[0].trigger }?.location
                ?? sensor?.location ?? catalogLocation
            if let templateName, !workflows.contains(where: { $0.template == templateName }) {
                add(
                    .error, "wrong-workflowtemplate", location,
                    "catalog action \(action.name) is dispatched to "
                        + workflows.map { $0.template ?? "no template" }.joined(separator: ", ")
                        + ", not to its template \(templateName)")
            }
            if workflows.count > 1 {
                add(
                    .error, "dispatched-twice", location,
                    "catalog action \(action.name) fires \(workflows.count) triggers: "
                        + workflows.map { "\($0.sensor)/\($0.trigger)" }.joined(separator: ", "))
            }
            for param in params {
                let arrives = workflows.contains { workflow in
                    workflow.arguments.contains { $0.value.contains(param.value) }
                }
                if !arrives {
                    add(
                        .error, "param-not-passed", location,
                        "catalog action \(action.name): parameter '\(param.name)' never reaches the Workflow's "
                            + "arguments")
                }
            }
            if action.requiresApproval {
                add(
                    .note, "approval-not-enforced", location,
                    "catalog action \(action.name) requires approval, but a decision for it on remediation.execute "
                        + "is submitted: only the triage service's route stands between the model and the cluster")
            }
        }
        // Several actions in one decision: which ones the Sensors read (parameters and literal text alike).
        var indices = Set<String>()
        var firstReader: PipelineManifests.Location?
        for sensor in manifests.sensors {
            for trigger in sensor.triggers {
                var paths = trigger.literalTemplates.flatMap { literalInputPaths($0.text) }
                for parameter in trigger.parameters {
                    if let key = parameter.dataKey { paths.append(key.components(separatedBy: ".")) }
                    if let source = parameter.dataTemplate, let template = try? GoTemplate(source) {
                        paths += template.inputPaths
                    }
                }
                for path in paths where path.count >= 3 && path[0] == "body" && path[1] == "actions" {
                    indices.insert(path[2])
                    firstReader = firstReader ?? trigger.location
                }
            }
        }
        if indices == ["0"], let firstReader {
            add(
                .note, "later-actions-dropped", firstReader,
                "the Sensors read only actions[0]: a decision's later actions are never dispatched")
        }
        return sorted(findings)
    }

    /// The seed's idempotency check (`SET … NX`) in each WorkflowTemplate, and what bounds Workflows across a storm.
    private static func stateRules(
        _ manifests: PipelineManifests,
        add: (Severity, String, PipelineManifests.Location, String) -> Void
    ) {
        for template in manifests.workflowTemplates {
            let checks = template.templates.filter { $0.script.map(hasIdempotencyCheck) ?? false }
            guard !checks.isEmpty || template.scripts.contains(where: { hasIdempotencyCheck($0.text) }) else {
                add(
                    .error, "no-idempotency-check", template.location,
                    "WorkflowTemplate \(template.name) has no idempotency check (the seed's `SET "
                        + "remediation:{incident_id}:{action} running NX EX 1800` before acting): nothing stops the "
                        + "same remediation twice; the replay assumes a gating check unless pipeline.idempotency.mode "
                        + "is off")
                continue
            }
            // A check in a step of its own gates nothing unless the steps after it depend on its result: its
            // `exit 0` succeeds and the next steps run (Argo Workflows: a step that exits 0 succeeded).
            for check in checks {
                for holder in template.templates {
                    for step in holder.steps where step.template == check.name {
                        // Steps of later groups; for a DAG (group -1), every other task.
                        let later =
                            step.group < 0
                            ? holder.steps.filter { $0.name != step.name }
                            : holder.steps.filter { $0.group > step.group }
                        let ungated = later.filter { other in
                            !(other.when ?? "").contains("steps.\(step.name).")
                                && !(other.when ?? "").contains(
                                    "tasks.\(step.name).")
                        }
                        // The last step's check is taken to sit in the action's own script: it gates.
                        if let first = ungated.first {
                            add(
                                .error, "idempotency-check-does-not-gate", step.location,
                                "WorkflowTemplate \(template.name): the idempotency check is step '\(step.name)' of its "
                                    + "own and step '\(first.name)' does not depend on its result"
                                    + ": its `exit 0` succeeds and the action still runs (give the later steps "
                                    + "`when: \"{{steps.\(step.name).outputs.result}} == proceeding\"`, or check in "
                                    + "the action's own script); replay it with pipeline.idempotency.mode: step")
                        }
                    }
                }
            }
        }
        // spec.parallelism bounds the pods of one Workflow; every remediation is its own Workflow.
        let bounded = manifests.controllerParallelism.map { $0.limit ?? 0 > 0 || $0.namespaceLimit ?? 0 > 0 } ?? false
        if !bounded, !manifests.workflowTemplates.contains(where: \.synchronized),
            let first = manifests.workflowTemplates.first(where: { $0.parallelism != nil })
        {
            add(
                .note, "parallelism-within-one-workflow", first.location,
                "WorkflowTemplate \(first.name) sets spec.parallelism, which bounds the pods of one Workflow; each "
                    + "remediation is a Workflow of its own, so nothing bounds how many run at once in a storm (set "
                    + "the controller's parallelism or a synchronization semaphore; replay one with "
                    + "pipeline.parallelism.limit)")
        }
    }

    /// Whether a script claims the seed's idempotency key: a Redis `SET` with `NX`.
    static func hasIdempotencyCheck(_ script: String) -> Bool {
        script.range(of: #"(?i)\bSET\b[^\n]*\bNX\b"#, options: .regularExpression) != nil
    }

    private static func sorted(_ findings: [Finding]) -> [Finding] {
        findings.enumerated().sorted {
            ($0.element.location.file, $0.element.location.line ?? 0, $0.offset)
                < ($1.element.location.file, $1.element.location.line ?? 0, $1.offset)
        }.map(\.element)
    }

    /// The line of a catalog action's `name: …` (the catalog's value keeps no lines).
    static func line(of action: String, in text: String) -> Int? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "-" }
            guard trimmed.hasPrefix("name:") else { continue }
            let value = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            if value == action { return index + 1 }
        }
        return nil
    }

    /// A literal that is a Sensor's Go template (`{{ .Input… }}`, `{{ index … }}`), not Argo Workflows' own
    /// `{{workflow.parameters.x}}`/`{{inputs.…}}`/`{{= …}}`, which Argo renders.
    static func looksLikeSensorTemplate(_ text: String) -> Bool {
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            var inside = rest[open.upperBound...].drop { $0 == " " || $0 == "-" }
            if inside.hasPrefix(".") || inside.hasPrefix("$") { return true }
            let word = inside.prefix { $0.isLetter }
            if GoTemplate.functions.contains(String(word)) || GoTemplate.keywords.contains(String(word)) {
                return true
            }
            inside = inside.dropFirst()
            rest = inside
        }
        return false
    }

    /// Each `{{ … }}` of a literal parsed as a Go template.
    static func goTemplateCheck(_ text: String) -> Swift.Result<GoTemplate, GoTemplateError> {
        do {
            return .success(try GoTemplate(text))
        } catch {
            return .failure(error)
        }
    }

    /// The `.Input.…` paths a literal names, read textually (`[0]` taken as an index), so that a template Go
    /// rejects still says which fields it meant.
    static func literalInputPaths(_ text: String) -> [[String]] {
        guard let expression = try? NSRegularExpression(pattern: #"\.Input((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)"#)
        else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { match in
            guard let chain = Range(match.range(at: 1), in: text) else { return nil }
            return text[chain].replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "")
                .split(separator: ".").map(String.init)
        }
    }

    /// A catalog timeout (`5m`, `90s`, `1h`, `1h30m`) in seconds.
    static func durationSeconds(_ text: String) -> Int? {
        var total = 0
        var number = ""
        for character in text {
            if character.isNumber {
                number.append(character)
                continue
            }
            guard let value = Int(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        if !number.isEmpty { total += Int(number) ?? 0 }
        return total
    }
}

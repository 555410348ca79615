import Foundation

/// What production's Argo Events Sensors make of a decision the triage service publishes: the Workflow each
/// firing trigger would submit, or why none is.
///
/// The triage service publishes `decision.model_dump_json()` on the route's subject (`remediation.execute`, …).
/// A NATS EventSource whose event listens on that subject turns it into event data
/// `{"subject", "body", "header", "metadata"}` — `body` the decision as JSON with `jsonBody: true`, else its
/// bytes base64-encoded (`eventsources/sources/nats/start.go`, `NATSEventData`). A Sensor dependency receives
/// the event when its `eventSourceName` and `eventName` name that EventSource and event and its data filters
/// pass; a trigger fires when its `conditions` hold (without any: when every dependency of its Sensor received
/// the event). Its parameters are resolved and applied to its resource as `ResolveParamValue` / `ApplyParams`
/// do (`sensors/triggers/params.go`), and the Workflow is checked as Argo's submit validation does: its
/// `workflowTemplateRef` must name a WorkflowTemplate, and every template parameter without a default must be
/// given.
package struct SensorDispatch: Sendable {
    package let manifests: PipelineManifests

    package init(manifests: PipelineManifests) {
        self.manifests = manifests
    }

    /// How a decision's dispatch ended.
    package enum Status: String, Sendable, CaseIterable {
        /// At least one Workflow would be submitted.
        case submitted
        /// No Sensor dependency received the event: Argo Events acknowledges it silently.
        case noDependency = "no_dependency"
        /// A parameter could not be resolved (or applied): the trigger fails and the event is gone.
        case triggerError = "trigger_error"
        /// The Workflow's `workflowTemplateRef` names no WorkflowTemplate: submit validation rejects it.
        case templateNotFound = "template_not_found"
        /// A template parameter without a default is not given: submit validation rejects it.
        case missingParameter = "missing_parameter"
        /// The decision was not routed to execute: nothing is dispatched (approvals come with part 3).
        case notRouted = "not_routed"
    }

    /// A Workflow a trigger would submit.
    package struct Workflow: Sendable, Equatable {
        package var sensor: String
        package var trigger: String
        /// `spec.workflowTemplateRef.name`.
        package var template: String?
        /// `spec.arguments.parameters`, name → value, in order.
        package var arguments: [(name: String, value: String)]
        /// The submitted object.
        package var resource: JSONValue

        package static func == (lhs: Workflow, rhs: Workflow) -> Bool {
            lhs.sensor == rhs.sensor && lhs.trigger == rhs.trigger && lhs.template == rhs.template
                && lhs.arguments.elementsEqual(rhs.arguments, by: { $0 == $1 }) && lhs.resource == rhs.resource
        }
    }

    /// One trigger that fired and failed.
    package struct Failure: Error, Sendable, Equatable {
        package var status: Status
        package var sensor: String
        package var trigger: String
        /// What failed, in Argo's words where it has them.
        package var message: String
        /// The parameter that failed (its `dest`, or the template parameter's name).
        package var parameter: String?
    }

    /// The dispatch of one decision.
    package struct Result: Sendable, Equatable {
        package var status: Status
        package var workflows: [Workflow]
        package var failures: [Failure]
        /// How many of the decision's actions no submitted Workflow reads.
        package var droppedActions: Int

        package var error: String? { status == .submitted ? nil : failures.first?.message }
        package var failedParameter: String? { status == .submitted ? nil : failures.first?.parameter }

        package static func notRouted(actions: Int) -> Result {
            Result(status: .notRouted, workflows: [], failures: [], droppedActions: actions)
        }
    }

    /// The subject the triage service publishes a route's decisions on.
    package static func subject(route: String) -> String { "remediation.\(route)" }

    /// Dispatches a decision published on a subject.
    package func dispatch(_ decision: Decision, subject: String) -> Result {
        let body = decision.jsonValue
        var received: [(sensor: PipelineManifests.Sensor, dependencies: [String: Event])] = []
        for sensor in manifests.sensors {
            var events: [String: Event] = [:]
            for source in manifests.eventSources {
                for event in source.nats where event.subject.map({ Self.subjectMatches($0, subject) }) ?? false {
                    let data = Self.natsEventData(subject: subject, body: body, event: event)
                    for dependency in sensor.dependencies
                    where dependency.eventSourceName == source.name && dependency.eventName == event.eventName
                        && Self.passes(dependency, data: data)
                    {
                        events[dependency.name] = Event(
                            context: Self.natsEventContext(eventSource: source.name, eventName: event.eventName),
                            data: data)
                    }
                }
            }
            if !events.isEmpty { received.append((sensor, events)) }
        }
        guard !received.isEmpty else {
            return Result(
                status: .noDependency, workflows: [],
                failures: [
                    Failure(
                        status: .noDependency, sensor: "", trigger: "",
                        message:
                            "no Sensor dependency received the event on \(subject) (none names its EventSource and event with filters that pass)"
                    )
                ], droppedActions: decision.actions.count)
        }
        var workflows: [Workflow] = []
        var failures: [Failure] = []
        var read = Set<Int>()
        for (sensor, events) in received {
            // Only a trigger that submits a Workflow (argoWorkflow or k8s, operation submit or create) can run a
            // remediation; a log, http or Slack trigger, or an argoWorkflow resume, fires without one.
            for trigger in sensor.triggers
            where Self.submitsWorkflow(trigger) && Self.fires(trigger, sensor: sensor, events: events) {
                switch submit(trigger, sensor: sensor, events: events) {
                case .success(let workflow):
                    workflows.append(workflow)
                    read.formUnion(Self.actionsRead(by: trigger, count: decision.actions.count))
                case .failure(let failure):
                    failures.append(failure)
                }
            }
        }
        let status: Status
        if !workflows.isEmpty {
            status = .submitted
        } else if let first = failures.first {
            status = first.status
        } else {
            status = .noDependency
            failures.append(
                Failure(
                    status: .noDependency, sensor: received[0].sensor.name, trigger: "",
                    message: "Sensor \(received[0].sensor.name) received the event but none of its triggers fired"))
        }
        return Result(
            status: status, workflows: workflows, failures: failures,
            droppedActions: decision.actions.count - read.intersection(0..<decision.actions.count).count)
    }

    // MARK: - The event

    /// An event as a Sensor holds it: its CloudEvent context and its data.
    package struct Event: Sendable {
        /// `EventContext` as `json.Marshal` writes it: id, source, specversion, type, datacontenttype, subject, time.
        package var context: JSONValue
        package var data: JSONValue

        package init(context: JSONValue, data: JSONValue) {
            self.context = context
            self.data = data
        }
    }

    /// The context the EventSource gives a NATS message (`pkg/eventsources/eventing.go`): source the EventSource's
    /// name, subject the event's name, type `nats`. Its id (a random UUID) and time (when the EventSource received
    /// the message) are not reproduced: one decision's dispatch is computed once for every message that carries
    /// it, so the id is empty and the time null (Go's zero `metav1.Time`).
    package static func natsEventContext(eventSource: String, eventName: String) -> JSONValue {
        .object([
            ("id", .string("")), ("source", .string(eventSource)), ("specversion", .string("1.0")),
            ("type", .string("nats")), ("datacontenttype", .string("application/json")),
            ("subject", .string(eventName)), ("time", .null),
        ])
    }

    /// NATS subject matching: `*` one token, `>` the rest.
    package static func subjectMatches(_ pattern: String, _ subject: String) -> Bool {
        let patternTokens = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let subjectTokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in patternTokens.enumerated() {
            if token == ">" { return subjectTokens.count > index }
            guard index < subjectTokens.count, token == "*" || token == subjectTokens[index] else { return false }
        }
        return patternTokens.count == subjectTokens.count
    }

    /// The NATS EventSource's event data for a message (`NATSEventData`): the body as JSON with `jsonBody`, else
    /// the bytes base64-encoded (Go's `[]byte` in JSON); no headers (the triage service sends none).
    package static func natsEventData(subject: String, body: JSONValue, event: PipelineManifests.NATSEvent) -> JSONValue
    {
        let bodyValue: JSONValue =
            event.jsonBody ? body : .string(Data(EventJSON.pydanticDump(body).utf8).base64EncodedString())
        var members: [(key: String, value: JSONValue)] = [
            ("subject", .string(subject)), ("body", bodyValue), ("header", .null),
        ]
        if !event.metadata.isEmpty {
            members.append(("metadata", .object(event.metadata.map { ($0.key, .string($0.value)) })))
        }
        return .object(members)
    }

    /// A dependency's data filters as `filterData` evaluates them (`pkg/sensors/dependencies/filter.go`): all
    /// must pass, or with `dataLogicalOperator: or` one. A filter fails when its path does not exist, it has no
    /// values, its type is not `bool`, `number` or `string`, or a value does not parse; with a `template`, the
    /// template's output over `{"Input": the value's text}` is compared, as a string. It passes when one of its
    /// values compares: `bool` as `strconv.ParseBool` of the value against gjson's `Bool()`; `number` as a float
    /// against gjson's `Float()` with the comparator (`=` by default); `string` as a regular expression found
    /// anywhere in the text (`=`, the default) or not found (`!=`).
    package static func passes(_ dependency: PipelineManifests.Dependency, data: JSONValue) -> Bool {
        let filters = dependency.dataFilters
        guard !filters.isEmpty else { return true }
        return dependency.dataFiltersOr
            ? filters.contains { passes($0, data: data) } : filters.allSatisfy { passes($0, data: data) }
    }

    package static func passes(_ filter: PipelineManifests.DataFilter, data: JSONValue) -> Bool {
        guard let path = try? GJSONPath(filter.path), var found = path.value(in: data), !filter.values.isEmpty
        else { return false }
        if let source = filter.template, !source.isEmpty {
            guard let template = try? GoTemplate(source),
                let output = try? template.execute(input: GoValue(json: .string(GJSONPath.string(found)))),
                !output.isEmpty, output != "<no value>"
            else { return false }
            found = .string(output)
        }
        switch filter.type {
        case "bool":
            let actual = gjsonBool(found)
            for value in filter.values {
                guard let expected = goParseBool(value) else { return false }
                if expected == actual { return true }
            }
            return false
        case "number":
            let actual = gjsonFloat(found)
            for value in filter.values {
                guard let expected = Double(value) else { return false }
                let compared: Bool
                switch filter.comparator ?? "" {
                case ">=": compared = actual >= expected
                case ">": compared = actual > expected
                case "<": compared = actual < expected
                case "<=": compared = actual <= expected
                case "!=": compared = actual != expected
                case "=", "": compared = actual == expected
                default: compared = false
                }
                if compared { return true }
            }
            return false
        case "string":
            let text = GJSONPath.string(found)
            let range = NSRange(text.startIndex..., in: text)
            for value in filter.values {
                guard let expression = try? NSRegularExpression(pattern: value) else { return false }
                let matched = expression.firstMatch(in: text, range: range) != nil
                switch filter.comparator ?? "" {
                case "=", "": if matched { return true }
                case "!=": if !matched { return true }
                default: break
                }
            }
            return false
        default:
            return false
        }
    }

    /// Go's `strconv.ParseBool`.
    static func goParseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// gjson's `Result.Bool()`: true, a string `ParseBool` reads as true (lowercased first), a non-zero number.
    static func gjsonBool(_ value: JSONValue) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .string(let text): return goParseBool(text.lowercased()) ?? false
        case .integer, .double: return gjsonFloat(value) != 0
        default: return false
        }
    }

    /// gjson's `Result.Float()`: a number, a string `ParseFloat` reads (else 0), 1 for true, 0 otherwise.
    static func gjsonFloat(_ value: JSONValue) -> Double {
        switch value {
        case .bool(let flag): return flag ? 1 : 0
        case .integer(let digits): return Double(digits) ?? 0
        case .double(let number): return number
        case .string(let text): return Double(text) ?? 0
        default: return 0
        }
    }

    /// Whether a trigger submits a Workflow when it fires.
    static func submitsWorkflow(_ trigger: PipelineManifests.Trigger) -> Bool {
        switch trigger.type {
        case "argoWorkflow": return ["", "submit"].contains(trigger.operation ?? "")
        case "k8s": return ["", "create"].contains(trigger.operation ?? "")
        default: return false
        }
    }

    /// Whether a trigger fires: its conditions (dependency names joined by `&&` / `||`, `&&` binding tighter),
    /// or without any, every dependency of the Sensor.
    static func fires(
        _ trigger: PipelineManifests.Trigger, sensor: PipelineManifests.Sensor, events: [String: Event]
    ) -> Bool {
        guard let conditions = trigger.conditions?.trimmingCharacters(in: .whitespaces), !conditions.isEmpty else {
            return sensor.dependencies.allSatisfy { events[$0.name] != nil }
        }
        return conditions.components(separatedBy: "||").contains { conjunction in
            conjunction.components(separatedBy: "&&").allSatisfy {
                events[$0.trimmingCharacters(in: .whitespaces)] != nil
            }
        }
    }

    // MARK: - Parameters

    /// Why a parameter resolved to nothing.
    package struct ParameterError: Error {
        package var message: String
    }

    /// A resolved parameter value and the type gjson gave it (`Result.Type.String()`: `String`, `Number`, `True`,
    /// `False`, `Null`, `JSON`), which decides whether `useRawData` sets it as itself.
    package struct Resolved: Sendable, Equatable {
        package var text: String
        package var type: String

        package init(_ text: String, type: String = "String") {
            self.text = text
            self.type = type
        }
    }

    /// `ResolveParamValue` (`sensors/triggers/params.go`, Argo Events 1.9).
    ///
    /// For a dependency that received an event: without a key or template, the default `value`, else the whole
    /// event as `json.Marshal` writes it; otherwise the data's template and key (`dataTemplate`, `dataKey`) when
    /// either is set, else the context's (`contextTemplate`, `contextKey`): the template first (an error, an empty
    /// result or `<no value>` falls through), then the key (gjson; an object or list as its JSON, `null` as
    /// `null`), then the default `value`, else an error. For a dependency that received nothing: the default
    /// `value`, else nil — the parameter is skipped, not an error (this happens with `||` conditions).
    package static func resolve(_ parameter: PipelineManifests.Parameter, events: [String: Event])
        throws(ParameterError) -> Resolved?
    {
        guard let event = events[parameter.dependencyName] else {
            return parameter.value.map { Resolved($0) }
        }
        let usesContext = parameter.contextKey.isSet || parameter.contextTemplate.isSet
        let usesData = parameter.dataKey.isSet || parameter.dataTemplate.isSet
        guard usesContext || usesData else {
            if let value = parameter.value { return Resolved(value) }
            // The whole event, as json.Marshal writes it (data, a []byte, base64-encoded).
            let dataText = EventJSON.raw(event.data)
            return Resolved(
                EventJSON.raw(
                    .object([("context", event.context), ("data", .string(Data(dataText.utf8).base64EncodedString()))])
                ))
        }
        let payload = usesData ? event.data : event.context
        let template = usesData ? parameter.dataTemplate : parameter.contextTemplate
        let key = usesData ? parameter.dataKey : parameter.contextKey
        var reasons: [String] = []
        if let template, !template.isEmpty {
            do {
                let output = try GoTemplate(template).execute(input: GoValue(json: payload))
                if !output.isEmpty && output != "<no value>" { return Resolved(output) }
                reasons.append("template evaluated to empty string or no value: \(template)")
            } catch {
                reasons.append("template \(template): \(error.message)")
            }
        }
        if let key, !key.isEmpty {
            if let path = try? GJSONPath(key), let found = path.value(in: payload) {
                switch found {
                case .null: return Resolved("null", type: "Null")
                case .object, .array: return Resolved(EventJSON.raw(found), type: "JSON")
                case .string(let text): return Resolved(text)
                case .bool(let flag): return Resolved(flag ? "true" : "false", type: flag ? "True" : "False")
                case .integer, .double: return Resolved(GJSONPath.string(found), type: "Number")
                }
            }
            reasons.append("key \(key) does not exist in the event payload")
        }
        if let fallback = parameter.value { return Resolved(fallback) }
        // Go's own message ends "err: <the template's error>", nil when only the key failed; this one names both.
        throw ParameterError(
            message: "unable to resolve '\(parameter.dependencyName)' parameter value: "
                + reasons.joined(separator: "; "))
    }

    /// `ApplyParams`: each resolved parameter's value set at its `dest` as sjson does — as a string, or with
    /// `useRawData` a value that is not a string as itself — appended or prepended to what is there for those
    /// operations (the result is then a string); a skipped parameter (nil) changes nothing.
    package static func apply(
        _ parameters: [PipelineManifests.Parameter], to resource: JSONValue, events: [String: Event]
    ) throws(ParameterError) -> JSONValue {
        var resource = resource
        for parameter in parameters {
            guard var value = try resolve(parameter, events: events) else { continue }
            switch parameter.operation ?? "" {
            case "", "overwrite": break
            case "append", "prepend":
                if let path = try? GJSONPath(parameter.dest), let current = path.value(in: resource) {
                    let currentText = GJSONPath.string(current)
                    value = Resolved(
                        parameter.operation == "append" ? currentText + value.text : value.text + currentText)
                }
            default:
                throw ParameterError(message: "unsupported trigger parameter operation: \(parameter.operation!)")
            }
            var newValue = JSONValue.string(value.text)
            if parameter.useRawData && value.type != "String" {
                // sjson.SetRawBytes: the value's own JSON (the key's value, as the event holds it).
                guard let raw = try? JSONParser.parse(value.text) else {
                    throw ParameterError(message: "dest \(parameter.dest): \(value.text) is not JSON")
                }
                newValue = raw
            }
            do {
                resource = try SJSONPath.set(resource, path: parameter.dest, to: newValue)
            } catch {
                throw ParameterError(message: "dest \(parameter.dest): \(error.message)")
            }
        }
        return resource
    }

    // MARK: - The Workflow

    private func submit(
        _ trigger: PipelineManifests.Trigger, sensor: PipelineManifests.Sensor, events: [String: Event]
    ) -> Swift.Result<Workflow, Failure> {
        func failure(_ status: Status, _ message: String, parameter: String? = nil) -> Swift.Result<Workflow, Failure> {
            .failure(
                Failure(
                    status: status, sensor: sensor.name, trigger: trigger.name, message: message, parameter: parameter))
        }
        guard let source = trigger.resource else {
            return failure(.triggerError, "the trigger has no source.resource")
        }
        let resource: JSONValue
        do {
            resource = try Self.apply(trigger.parameters, to: source, events: events)
        } catch {
            let parameter = trigger.parameters.first { parameter in
                do { _ = try Self.resolve(parameter, events: events) } catch { return true }
                return false
            }
            return failure(.triggerError, error.message, parameter: parameter?.dest)
        }
        let spec = resource["spec"]
        let templateName = spec?["workflowTemplateRef"]?["name"].map(GJSONPath.string)
        var arguments: [(name: String, value: String)] = []
        var withoutValue: [String] = []
        for parameter in spec?["arguments"]?["parameters"]?.arrayElements ?? [] {
            guard let name = parameter["name"].map(GJSONPath.string) else { continue }
            if let value = parameter["value"], value != .null {
                arguments.append((name, GJSONPath.string(value)))
            } else if parameter["valueFrom"] == nil {
                withoutValue.append(name)
            }
        }
        if let templateName {
            guard let template = manifests.workflowTemplate(named: templateName) else {
                return failure(
                    .templateNotFound, "workflowtemplates.argoproj.io \"\(templateName)\" not found",
                    parameter: "spec.workflowTemplateRef.name")
            }
            // An argument the Workflow names without a value (a parameter skipped because its dependency
            // received nothing) stays without one when the template's arguments are merged in.
            if let name = withoutValue.first {
                return failure(
                    .missingParameter, "spec.arguments.parameters.\(name).value is required", parameter: name)
            }
            let given = Set(arguments.map(\.name))
            for parameter in template.parameters where parameter.value == nil && !given.contains(parameter.name) {
                return failure(
                    .missingParameter, "spec.arguments.parameters.\(parameter.name).value is required",
                    parameter: parameter.name)
            }
        }
        return .success(
            Workflow(
                sensor: sensor.name, trigger: trigger.name, template: templateName, arguments: arguments,
                resource: resource))
    }

    /// The decision's actions a trigger's parameters read (`body.actions.N…` keys, `index .Input.body.actions N`).
    static func actionsRead(by trigger: PipelineManifests.Trigger, count: Int) -> Set<Int> {
        var read = Set<Int>()
        for parameter in trigger.parameters {
            var paths: [[String]] = []
            if let key = parameter.dataKey { paths.append(key.components(separatedBy: ".")) }
            if let source = parameter.dataTemplate, let template = try? GoTemplate(source) {
                paths += template.inputPaths
            }
            for path in paths {
                guard path.count >= 2, path[0] == "body", path[1] == "actions" else { continue }
                if path.count >= 3, let index = Int(path[2]) {
                    read.insert(index)
                } else if path.count == 2 || path[2] == "#" {
                    // The whole list (or every element's key) goes into one argument.
                    read.formUnion(0..<count)
                }
            }
        }
        return read
    }
}

extension EventJSON {
    /// `model_dump_json()` of a decision's value: compact, UTF-8, pydantic's floats.
    static func pydanticDump(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return PydanticJSON.quote(text)
        case .array(let elements): return "[" + elements.map(pydanticDump).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.map { PydanticJSON.quote($0.key) + ":" + pydanticDump($0.value) }.joined(separator: ",")
                + "}"
        default: return raw(value)
        }
    }
}

/// serde_json's string escaping, as pydantic's `model_dump_json()` writes strings.
enum PydanticJSON {
    static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }
}

extension String? {
    /// Set and not empty, as Go's `!= ""` tests a string field.
    fileprivate var isSet: Bool { self.map { !$0.isEmpty } ?? false }
}

/// A Workflow a decision would submit: the remediation the pipeline's state rules see.
///
/// With the scenario's manifests it is what a Sensor's trigger submits (``SensorDispatch``): its WorkflowTemplate,
/// and its arguments as the Sensor resolved them — the incident id among them is the model's. Without manifests
/// each action of the decision is one Workflow of the catalog's `template`, given the action's parameters and the
/// decision's `incident_id` (a Sensor that dispatches every action with every parameter).
///
/// A class: a reply's Workflows are made once and shared by every message that takes the reply, and a replay
/// moves each through the queue and the event heap.
package final class PlannedWorkflow: Sendable, Equatable {
    /// The catalog action the WorkflowTemplate runs (the template's name when no catalog action names it).
    package let action: String
    /// `workflowTemplateRef.name`.
    package let template: String?
    /// The `incident_id` argument: the id the idempotency key and the audit row use (nil when it has none).
    package let incidentId: String?
    /// The other arguments, in order: the action's target.
    package let params: [(name: String, value: String)]
    /// How long it runs once started (seconds).
    package let duration: Double
    /// ``params`` as the store keeps them: a JSON object in their order.
    package let paramsJSON: String
    /// The action call it runs (name and arguments), as a label judges it: made once, since a reply's Workflows
    /// serve every message that takes the reply.
    package let call: ActionCall
    /// The namespace it acts in (its `namespace` argument), for a per-namespace limit.
    package let targetNamespace: String
    /// The call as one string (action, then the arguments by name): two Workflows of one incident with the same
    /// key ran the same action on the same target.
    package let callKey: String

    package init(
        action: String, template: String?, incidentId: String?, params: [(name: String, value: String)],
        duration: Double
    ) {
        self.action = action
        self.template = template
        self.incidentId = incidentId
        self.params = params
        self.duration = duration
        call = ActionCall(
            name: action, params: Dictionary(params.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }))
        targetNamespace = params.last { $0.name == "namespace" }?.value ?? ""
        paramsJSON = PythonJSONEncoder.string(.object(params.map { ($0.name, JSONValue.string($0.value)) }))
        callKey = ([action] + call.params.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
            .joined(separator: "\u{0}")
    }

    package static func == (lhs: PlannedWorkflow, rhs: PlannedWorkflow) -> Bool {
        lhs.action == rhs.action && lhs.template == rhs.template && lhs.incidentId == rhs.incidentId
            && lhs.params.elementsEqual(rhs.params, by: { $0 == $1 }) && lhs.duration == rhs.duration
    }

}

/// Turns a decision into the Workflows it would submit on a route's subject.
package struct WorkflowPlanner: Sendable {
    package var catalog: Catalog
    /// The scenario's Sensors; nil: one Workflow per action (see ``PlannedWorkflow``).
    package var dispatch: SensorDispatch?
    /// A nominal duration for every Workflow; nil: each runs for its WorkflowTemplate's `activeDeadlineSeconds`,
    /// else its catalog action's `timeout`, else ``fallbackDuration``.
    package var duration: Double?

    /// A Workflow's duration when neither its template nor its action says one: 5 minutes.
    package static let fallbackDuration: Double = 300

    package init(catalog: Catalog, dispatch: SensorDispatch?, duration: Double? = nil) {
        self.catalog = catalog
        self.dispatch = dispatch
        self.duration = duration
        var byTemplate: [String: String] = [:]
        var timeouts: [String: Double] = [:]
        for action in catalog.actions {
            if let template = action.value["template"]?.stringValue, byTemplate[template] == nil {
                byTemplate[template] = action.name
            }
            if let timeout = action.value["timeout"]?.stringValue,
                let seconds = PipelineLint.durationSeconds(timeout), seconds > 0
            {
                timeouts[action.name] = Double(seconds)
            }
        }
        actionByTemplate = byTemplate
        actionTimeouts = timeouts
    }

    private let actionByTemplate: [String: String]
    private let actionTimeouts: [String: Double]

    /// The Workflows a decision published on `subject` would submit, and — with manifests — the dispatch that
    /// made them.
    package func workflows(_ decision: Decision, subject: String) -> (
        workflows: [PlannedWorkflow], dispatch: SensorDispatch.Result?
    ) {
        guard let dispatch else {
            var seen = Set<ActionCall>()
            var workflows: [PlannedWorkflow] = []
            for action in decision.actions {
                let params = action.params.map { ($0.name, $0.value) }
                let call = ActionCall(
                    name: action.name, params: Dictionary(params, uniquingKeysWith: { _, last in last }))
                // A call repeated in one decision is one Workflow (the scorer counts it once too).
                guard seen.insert(call).inserted else { continue }
                let template = catalog.action(named: action.name)?.value["template"]?.stringValue
                workflows.append(
                    PlannedWorkflow(
                        action: action.name, template: template, incidentId: decision.incidentId, params: params,
                        duration: duration(action: action.name, template: nil)))
            }
            return (workflows, nil)
        }
        let result = dispatch.dispatch(decision, subject: subject)
        let workflows = result.workflows.map { workflow in
            let action = workflow.template.flatMap { actionByTemplate[$0] } ?? workflow.template ?? workflow.trigger
            return PlannedWorkflow(
                action: action, template: workflow.template,
                incidentId: workflow.arguments.last { $0.name == "incident_id" }?.value,
                params: workflow.arguments.filter { $0.name != "incident_id" },
                duration: duration(action: action, template: workflow.template))
        }
        return (workflows, result)
    }

    private func duration(action: String, template: String?) -> Double {
        if let duration { return duration }
        if let template, let deadline = dispatch?.manifests.workflowTemplate(named: template)?.activeDeadlineSeconds,
            deadline > 0
        {
            return Double(deadline)
        }
        return actionTimeouts[action] ?? Self.fallbackDuration
    }
}

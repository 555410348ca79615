import Foundation
import Testing
import TriageEvalCore

/// Sensor dispatch on hand-written manifests, each expected Workflow or failure worked out by hand from
/// `sensors/triggers/params.go` (Argo Events 1.9) and Argo Workflows' submit validation.
@Suite struct SensorDispatchTests {
    static func manifests(_ yaml: String) throws -> PipelineManifests {
        var manifests = PipelineManifests()
        try manifests.read(text: yaml, file: "test.yaml")
        return manifests
    }

    static func decision(_ actions: [(String, [(String, String)])], id: String = "inc-7") -> Decision {
        Decision(
            incidentId: id,
            actions: actions.map { name, params in
                DecisionAction(
                    name: name, params: params.map { DecisionAction.Param(name: $0.0, value: $0.1) }, rationale: "r")
            }, confidence: 0.9, needsHuman: false)
    }

    static let eventSource = """
        apiVersion: argoproj.io/v1alpha1
        kind: EventSource
        metadata: {name: decisions}
        spec:
          nats:
            execute: {url: "nats://bus:4222", subject: remediation.execute, jsonBody: true}
            raw: {url: "nats://bus:4222", subject: remediation.execute}
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTemplate
        metadata: {name: restart-pods-tpl}
        spec:
          arguments:
            parameters:
              - name: incident_id
              - name: namespace
              - name: selector
              - name: ghost
                value: from-the-template
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTemplate
        metadata: {name: scale-up-tpl}
        spec:
          arguments:
            parameters:
              - name: incident_id
              - name: replicas
        ---

        """

    /// A Sensor whose parameters use every source: a template, a template falling back to a key, a key falling
    /// back to a default value, a parameter of an undefined dependency, and a literal `{{ }}` in the resource.
    static let byName =
        eventSource + """
            apiVersion: argoproj.io/v1alpha1
            kind: Sensor
            metadata: {name: by-name}
            spec:
              dependencies:
                - {name: d, eventSourceName: decisions, eventName: execute}
              triggers:
                - template:
                    name: submit
                    argoWorkflow:
                      operation: submit
                      source:
                        resource:
                          apiVersion: argoproj.io/v1alpha1
                          kind: Workflow
                          metadata:
                            generateName: remediation-
                            labels: {incident: "{{ .Input.body.incident_id }}"}
                          spec:
                            workflowTemplateRef: {name: placeholder}
                            arguments:
                              parameters:
                                - name: incident_id
                                - name: namespace
                                - name: selector
                                - name: ghost
                      parameters:
                        - src:
                            dependencyName: d
                            dataTemplate: '{{ (index .Input.body.actions 0).name | replace "_" "-" }}-tpl'
                          dest: spec.workflowTemplateRef.name
                        - src: {dependencyName: d, dataKey: body.incident_id}
                          dest: spec.arguments.parameters.0.value
                        - src: {dependencyName: d, dataTemplate: "{{ .Input.body.ns }}", dataKey: body.actions.0.params.namespace}
                          dest: spec.arguments.parameters.1.value
                        - src: {dependencyName: d, dataKey: body.actions.0.params.selector, value: app=unknown}
                          dest: spec.arguments.parameters.2.value
                        - src: {dependencyName: nobody, dataKey: body.incident_id, value: absent}
                          dest: spec.arguments.parameters.3.value
            """

    @Test func everyParameterSourceInItsOrder() throws {
        let dispatch = SensorDispatch(manifests: try Self.manifests(Self.byName))
        let result = dispatch.dispatch(
            Self.decision([("restart_pods", [("namespace", "shop")]), ("scale_up", [])]),
            subject: "remediation.execute")
        #expect(result.status == .submitted)
        let workflow = try #require(result.workflows.first)
        #expect(workflow.template == "restart-pods-tpl")
        // namespace: the template printed <no value>, so the key; selector: no such key, so the value; ghost: a
        // dependency that received nothing, so the value.
        #expect(workflow.arguments.map(\.name) == ["incident_id", "namespace", "selector", "ghost"])
        #expect(workflow.arguments.map(\.value) == ["inc-7", "shop", "app=unknown", "absent"])
        // The literal template reaches Argo unrendered.
        #expect(
            workflow.resource["metadata"]?["labels"]?["incident"] == .string("{{ .Input.body.incident_id }}"))
        // Only actions[0] is read: the second action is never dispatched.
        #expect(result.droppedActions == 1)
    }

    @Test func aParameterOfADependencyThatReceivedNothingIsSkipped() throws {
        // Without a value the parameter is skipped (not an error): the argument keeps no value, and submit
        // validation rejects the Workflow for it.
        let manifests = Self.byName.replacingOccurrences(
            of: "{dependencyName: nobody, dataKey: body.incident_id, value: absent}",
            with: "{dependencyName: nobody, dataKey: body.incident_id}")
        let dispatch = SensorDispatch(manifests: try Self.manifests(manifests))
        let result = dispatch.dispatch(
            Self.decision([("restart_pods", [("namespace", "shop")])]), subject: "remediation.execute")
        #expect(result.status == .missingParameter)
        #expect(result.error == "spec.arguments.parameters.ghost.value is required")
        #expect(result.failedParameter == "ghost")
    }

    @Test func aTemplateNameNoWorkflowTemplateHasIsNotFound() throws {
        let dispatch = SensorDispatch(manifests: try Self.manifests(Self.byName))
        let result = dispatch.dispatch(
            Self.decision([("clear_cache", [("namespace", "shop")])]), subject: "remediation.execute")
        #expect(result.status == .templateNotFound)
        #expect(result.error == #"workflowtemplates.argoproj.io "clear-cache-tpl" not found"#)
        #expect(result.failedParameter == "spec.workflowTemplateRef.name")
        #expect(result.droppedActions == 1)
    }

    @Test func aRequiredParameterNobodyPassesIsRejected() throws {
        // scale-up-tpl declares replicas without a default; the trigger passes no such argument.
        let dispatch = SensorDispatch(manifests: try Self.manifests(Self.byName))
        let result = dispatch.dispatch(
            Self.decision([("scale_up", [("namespace", "shop"), ("replicas", "4")])]), subject: "remediation.execute")
        #expect(result.status == .missingParameter)
        #expect(result.error == "spec.arguments.parameters.replicas.value is required")
        #expect(result.failedParameter == "replicas")
    }

    @Test func anUnresolvedParameterDropsTheEvent() throws {
        let yaml =
            Self.eventSource + """
                apiVersion: argoproj.io/v1alpha1
                kind: Sensor
                metadata: {name: strict}
                spec:
                  dependencies:
                    - {name: d, eventSourceName: decisions, eventName: execute}
                  triggers:
                    - template:
                        name: submit
                        argoWorkflow:
                          source:
                            resource:
                              kind: Workflow
                              spec:
                                workflowTemplateRef: {name: scale-up-tpl}
                                arguments: {parameters: [{name: incident_id, value: i}, {name: replicas, value: '2'}]}
                          parameters:
                            - src: {dependencyName: d, dataKey: body.incident_id}
                              dest: spec.arguments.parameters.0.value
                            - src: {dependencyName: d, dataTemplate: "{{ .Input.body.nothing.x }}", dataKey: body.actions.0.params.replicas}
                              dest: spec.arguments.parameters.1.value
                """
        let dispatch = SensorDispatch(manifests: try Self.manifests(yaml))
        // With the parameter: the failing template falls back to the key.
        let given = dispatch.dispatch(
            Self.decision([("scale_up", [("replicas", "4")])]), subject: "remediation.execute")
        #expect(given.status == .submitted)
        #expect(given.workflows.first?.arguments.map(\.value) == ["inc-7", "4"])
        // Without it, and no default value: the trigger fails.
        let missing = dispatch.dispatch(Self.decision([("scale_up", [])]), subject: "remediation.execute")
        #expect(missing.status == .triggerError)
        #expect(missing.failedParameter == "spec.arguments.parameters.1.value")
        #expect(missing.error?.hasPrefix("unable to resolve 'd' parameter value") == true)
        #expect(missing.droppedActions == 1)
    }

    @Test func noDependencyReceivesWhatItDoesNotName() throws {
        // eventSourceName `eventbus` (the seed's) names no EventSource; a base64 body makes a data filter on
        // body.actions fail; another subject reaches no event.
        let yaml =
            Self.eventSource + """
                apiVersion: argoproj.io/v1alpha1
                kind: Sensor
                metadata: {name: s}
                spec:
                  dependencies:
                    - {name: bus, eventSourceName: eventbus, eventName: remediation.execute}
                    - name: raw
                      eventSourceName: decisions
                      eventName: raw
                      filters:
                        data: [{path: body.actions.0.name, type: string, value: ["restart"]}]
                  triggers:
                    - template:
                        name: t
                        conditions: bus || raw
                        argoWorkflow:
                          source: {resource: {kind: Workflow, spec: {workflowTemplateRef: {name: restart-pods-tpl}}}}
                """
        let dispatch = SensorDispatch(manifests: try Self.manifests(yaml))
        let decision = Self.decision([("restart_pods", [])])
        #expect(dispatch.dispatch(decision, subject: "remediation.execute").status == .noDependency)
        #expect(dispatch.dispatch(decision, subject: "remediation.approve").status == .noDependency)
        #expect(dispatch.dispatch(decision, subject: "remediation.execute").droppedActions == 1)
    }

    /// Data filters as `filterData` evaluates them, each case worked out by hand from filter.go.
    @Test(arguments: [
        // bool: strconv.ParseBool of the value ("f" is false) against gjson's Bool().
        ("bool-f", "{path: body.needs_human, type: bool, value: [f]}", true),
        ("bool-true", "{path: body.needs_human, type: bool, value: ['true']}", false),
        ("bool-unparsable", "{path: body.needs_human, type: bool, value: ['yes', 'false']}", false),
        // number: a float, with the comparator; a string reads as its number; an unknown comparator never holds.
        ("number-ge", "{path: body.confidence, type: number, comparator: '>=', value: ['0.8']}", true),
        ("number-lt", "{path: body.confidence, type: number, comparator: '<', value: ['0.8']}", false),
        ("number-any", "{path: body.confidence, type: number, value: ['0.5', '0.9']}", true),
        ("number-string", "{path: body.count, type: number, comparator: '>', value: ['3']}", true),
        ("number-unknown-comparator", "{path: body.confidence, type: number, comparator: '==', value: ['0.9']}", false),
        // string: a regular expression found anywhere; != passes when some value does not match.
        ("string-second", "{path: body.actions.0.name, type: string, value: ['^scale', restart]}", true),
        (
            "string-not-any", "{path: body.actions.0.name, type: string, comparator: '!=', value: [restart, scale]}",
            true
        ),
        ("string-not", "{path: body.actions.0.name, type: string, comparator: '!=', value: [restart]}", false),
        // A template's output is compared instead.
        (
            "template",
            "{path: body.actions.0.name, type: string, value: ['^RESTART_PODS$'], template: '{{ .Input | upper }}'}",
            true
        ),
        // No type, no values, no such path: the filter fails.
        ("no-type", "{path: body.actions.0.name, value: [restart]}", false),
        ("no-values", "{path: body.actions.0.name, type: string, value: []}", false),
        ("no-path", "{path: body.nothing, type: string, value: ['.*']}", false),
    ])
    func dataFiltersAsFilterGoEvaluatesThem(_ name: String, _ filter: String, _ passes: Bool) throws {
        let yaml = """
            apiVersion: argoproj.io/v1alpha1
            kind: Sensor
            metadata: {name: s}
            spec:
              dependencies:
                - {name: d, eventSourceName: decisions, eventName: execute, filters: {data: [\(filter)]}}
            """
        let dependency = try #require(try Self.manifests(yaml).sensors.first?.dependencies.first)
        let data = try JSONParser.parse(
            #"{"body": {"confidence": 0.9, "needs_human": false, "count": "5", "actions": [{"name": "restart_pods"}]}}"#
        )
        #expect(SensorDispatch.passes(dependency, data: data) == passes, "\(name)")
    }

    @Test func dataLogicalOperatorOrNeedsOneFilter() throws {
        func dependency(_ logical: String) throws -> PipelineManifests.Dependency {
            let yaml = """
                apiVersion: argoproj.io/v1alpha1
                kind: Sensor
                metadata: {name: s}
                spec:
                  dependencies:
                    - name: d
                      eventSourceName: decisions
                      eventName: execute
                      filters:
                        \(logical)
                        data:
                          - {path: body.actions.0.name, type: string, value: ['^scale_up$']}
                          - {path: body.actions.0.name, type: string, value: ['^restart_pods$']}
                """
            return try #require(try Self.manifests(yaml).sensors.first?.dependencies.first)
        }
        let data = try JSONParser.parse(#"{"body": {"actions": [{"name": "restart_pods"}]}}"#)
        #expect(SensorDispatch.passes(try dependency("dataLogicalOperator: or"), data: data))
        #expect(!SensorDispatch.passes(try dependency("dataLogicalOperator: and"), data: data))
        #expect(!SensorDispatch.passes(try dependency(""), data: data))
        #expect(throws: ConfigError.self) { try dependency("dataLogicalOperator: xor") }
    }

    @Test func filtersAndConditionsPickTheTrigger() throws {
        // One dependency per action, filtered on the first action's name (a regular expression, matched
        // anywhere: `restart` alone would also match `restart_pods_now`), one trigger per dependency.
        let yaml =
            Self.eventSource + """
                apiVersion: argoproj.io/v1alpha1
                kind: Sensor
                metadata: {name: per-action}
                spec:
                  dependencies:
                    - name: restart
                      eventSourceName: decisions
                      eventName: execute
                      filters: {data: [{path: body.actions.0.name, type: string, value: ["^restart_pods$"]}]}
                    - name: scale
                      eventSourceName: decisions
                      eventName: execute
                      filters: {data: [{path: body.actions.0.name, type: string, value: ["scale"]}]}
                  triggers:
                    - template:
                        name: restart
                        conditions: restart
                        argoWorkflow:
                          source: {resource: {kind: Workflow, spec: {workflowTemplateRef: {name: restart-pods-tpl}, arguments: {parameters: [{name: incident_id, value: i}, {name: namespace, value: n}, {name: selector, value: s}]}}}}
                    - template:
                        name: scale
                        conditions: scale
                        argoWorkflow:
                          source: {resource: {kind: Workflow, spec: {workflowTemplateRef: {name: scale-up-tpl}, arguments: {parameters: [{name: incident_id, value: i}, {name: replicas, value: '2'}]}}}}
                """
        let dispatch = SensorDispatch(manifests: try Self.manifests(yaml))
        let restart = dispatch.dispatch(Self.decision([("restart_pods", [])]), subject: "remediation.execute")
        #expect(restart.workflows.map(\.trigger) == ["restart"])
        let scale = dispatch.dispatch(Self.decision([("upscale_now", [])]), subject: "remediation.execute")
        #expect(scale.workflows.map(\.trigger) == ["scale"])
        let none = dispatch.dispatch(Self.decision([]), subject: "remediation.execute")
        #expect(none.status == .noDependency)
        #expect(none.droppedActions == 0)
    }

    @Test func withoutConditionsEveryDependencyMustReceive() throws {
        let yaml =
            Self.eventSource + """
                apiVersion: argoproj.io/v1alpha1
                kind: Sensor
                metadata: {name: both}
                spec:
                  dependencies:
                    - {name: a, eventSourceName: decisions, eventName: execute}
                    - {name: b, eventSourceName: decisions, eventName: elsewhere}
                  triggers:
                    - template:
                        name: t
                        argoWorkflow:
                          source: {resource: {kind: Workflow, spec: {workflowTemplateRef: {name: restart-pods-tpl}}}}
                """
        let dispatch = SensorDispatch(manifests: try Self.manifests(yaml))
        let result = dispatch.dispatch(Self.decision([("restart_pods", [])]), subject: "remediation.execute")
        #expect(result.status == .noDependency)
        #expect(result.workflows.isEmpty)
    }

    @Test func natsSubjectsMatchWithWildcards() {
        #expect(SensorDispatch.subjectMatches("remediation.execute", "remediation.execute"))
        #expect(SensorDispatch.subjectMatches("remediation.*", "remediation.execute"))
        #expect(SensorDispatch.subjectMatches(">", "remediation.execute"))
        #expect(SensorDispatch.subjectMatches("remediation.>", "remediation.execute"))
        #expect(!SensorDispatch.subjectMatches("remediation.>", "remediation"))
        #expect(!SensorDispatch.subjectMatches("remediation.*", "remediation.execute.now"))
        #expect(!SensorDispatch.subjectMatches("alerts.>", "remediation.execute"))
    }

    @Test func theEventDataIsTheNATSEventSources() throws {
        let events = try Self.manifests(Self.eventSource).eventSources[0].nats
        let event = try #require(events.first { !$0.jsonBody })
        let decision = Self.decision([("restart_pods", [("namespace", "a<b")])])
        // Without jsonBody, the body is the bytes of model_dump_json() base64-encoded (Go's []byte in JSON).
        let raw = SensorDispatch.natsEventData(subject: "remediation.execute", body: decision.jsonValue, event: event)
        let dumped =
            #"{"incident_id":"inc-7","actions":[{"name":"restart_pods","params":{"namespace":"a<b"},"rationale":"r"}],"confidence":0.9,"needs_human":false}"#
        #expect(raw["body"] == .string(Data(dumped.utf8).base64EncodedString()))
        #expect(raw["header"] == .null)
        let json = try #require(events.first { $0.jsonBody })
        let data = SensorDispatch.natsEventData(subject: "remediation.execute", body: decision.jsonValue, event: json)
        #expect(data["body"]?["actions"]?.arrayElements?.count == 1)
        // Its raw JSON (a dataKey naming an object) is Go's compaction of pydantic's bytes: HTML escapes added.
        #expect(
            try GJSONPath("body.actions.0.params").value(in: data).map(GJSONPath.string) == #"{"namespace":"a\u003cb"}"#
        )
    }
}

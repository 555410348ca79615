import Foundation
import Testing
import TriageEvalCore

/// Each lint rule on a hand-written manifest that breaks it (and the same manifest fixed, which must not).
@Suite struct PipelineLintTests {
    static let catalogText = """
        actions:
          - name: restart_pods
            template: restart-pods-tpl
            requires_approval: false
            params: [namespace, selector]
            timeout: 5m
        """

    static func lint(_ yaml: String, catalog: Bool = true) throws -> [PipelineLint.Finding] {
        var manifests = PipelineManifests()
        try manifests.read(text: yaml, file: "m.yaml")
        let parsed = try Catalog.parse(text: catalogText, path: "catalog.yaml", format: "yaml")
        return PipelineLint.lint(manifests, catalog: catalog ? parsed : nil)
    }

    static func rules(_ findings: [PipelineLint.Finding], _ severity: PipelineLint.Severity = .error) -> [String] {
        findings.filter { $0.severity == severity }.map(\.rule)
    }

    static let eventSource = """
        apiVersion: argoproj.io/v1alpha1
        kind: EventSource
        metadata: {name: decisions}
        spec:
          nats:
            execute: {subject: remediation.execute, jsonBody: true}
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTemplate
        metadata: {name: restart-pods-tpl}
        spec:
          activeDeadlineSeconds: 300
          arguments:
            parameters: [{name: incident_id}, {name: namespace}, {name: selector}]
          entrypoint: main
          templates:
            - name: main
              script:
                image: bitnami/kubectl:1.32
                command: [sh]
                source: |
                  redis-cli SET "remediation:{{workflow.parameters.incident_id}}:restart_pods" running NX EX 1800 \\
                    | grep -q OK || exit 0
                  kubectl -n {{workflow.parameters.namespace}} delete pods -l {{workflow.parameters.selector}}
        ---

        """

    /// A Sensor that dispatches restart_pods with all its parameters: no finding.
    static func sensor(
        dependency: String = "{name: d, eventSourceName: decisions, eventName: execute}",
        parameters: String = """
                    - src: {dependencyName: d, dataKey: body.incident_id}
                      dest: spec.arguments.parameters.0.value
                    - src: {dependencyName: d, dataKey: body.actions.0.params.namespace}
                      dest: spec.arguments.parameters.1.value
                    - src: {dependencyName: d, dataKey: body.actions.0.params.selector}
                      dest: spec.arguments.parameters.2.value
        """, template: String = "restart-pods-tpl", label: String = "fixed"
    ) -> String {
        """
        apiVersion: argoproj.io/v1alpha1
        kind: Sensor
        metadata: {name: s}
        spec:
          dependencies:
            - \(dependency)
          triggers:
            - template:
                name: t
                argoWorkflow:
                  source:
                    resource:
                      kind: Workflow
                      metadata: {labels: {l: "\(label)"}}
                      spec:
                        workflowTemplateRef: {name: \(template)}
                        arguments:
                          parameters: [{name: incident_id}, {name: namespace}, {name: selector}]
                  parameters:
        \(indented(parameters))
        """
    }

    /// A parameter list at the trigger's indentation, whatever the literal's.
    static func indented(_ parameters: String) -> String {
        parameters.split(separator: "\n").map { line in
            let text = line.drop { $0 == " " }
            return String(repeating: " ", count: text.hasPrefix("- ") ? 12 : 14) + text
        }.joined(separator: "\n")
    }

    @Test func aCorrectPipelineHasNoError() throws {
        let findings = try Self.lint(Self.eventSource + Self.sensor())
        #expect(Self.rules(findings).isEmpty, "\(findings)")
        // Without a catalog, the catalog's rules are not run.
        #expect(Self.rules(try Self.lint(Self.eventSource + Self.sensor(), catalog: false)).isEmpty)
    }

    @Test func aLiteralTemplateInTheResource() throws {
        let findings = try Self.lint(Self.eventSource + Self.sensor(label: "{{ .Input.body.actions[0].name }}"))
        #expect(Self.rules(findings) == ["template-in-resource", "template-syntax"])
        // At the line of the string that holds it.
        #expect(findings.first { $0.rule == "template-in-resource" }?.location.description == "m.yaml:39")
        // Argo Workflows' own {{workflow.parameters.x}} is Argo's to render: no finding.
        #expect(Self.rules(try Self.lint(Self.eventSource + Self.sensor(label: "{{workflow.name}}"))).isEmpty)
    }

    @Test func aDependencyWithoutItsEventSource() throws {
        let findings = try Self.lint(
            Self.eventSource
                + Self.sensor(dependency: "{name: d, eventSourceName: eventbus, eventName: remediation.execute}"))
        #expect(
            Set(Self.rules(findings)) == [
                "eventsource-without-dependency", "dependency-without-eventsource", "action-not-dispatchable",
            ])
    }

    @Test func aBodyThatIsNotJSON() throws {
        let source = Self.eventSource.replacingOccurrences(of: ", jsonBody: true", with: "")
        let findings = try Self.lint(source + Self.sensor())
        #expect(Self.rules(findings).contains("nats-body-not-json"))
        // The Sensor then resolves body.… to nothing: the action is not dispatchable.
        #expect(Self.rules(findings).contains("action-not-dispatchable"))
    }

    @Test func aParameterOfAnUndefinedDependencyAndAFieldTheDecisionLacks() throws {
        let parameters = """
                    - src: {dependencyName: d, dataKey: body.incident_id}
                      dest: spec.arguments.parameters.0.value
                    - src: {dependencyName: other, dataKey: body.actions.0.params.namespace}
                      dest: spec.arguments.parameters.1.value
                    - src: {dependencyName: d, dataKey: body.actions.0.template, value: x}
                      dest: spec.arguments.parameters.2.value
            """
        let findings = try Self.lint(Self.eventSource + Self.sensor(parameters: parameters))
        let rules = Self.rules(findings)
        #expect(rules.contains("undefined-dependency"))
        #expect(rules.contains("not-a-decision-field"))
        // The namespace parameter is skipped (its dependency is undefined): the Workflow's namespace argument
        // keeps no value, and submit validation rejects it.
        #expect(
            findings.contains {
                $0.rule == "action-not-dispatchable"
                    && $0.message.contains("spec.arguments.parameters.namespace.value is required")
            })
        #expect(
            findings.first { $0.rule == "undefined-dependency" }?.message.hasSuffix(
                "it is skipped and 'spec.arguments.parameters.1.value' keeps what the resource has") == true)
        // With a default value, the undefined dependency's parameter is that value: selector (x) is then passed
        // but never carries the decision's value.
        let withDefault = parameters.replacingOccurrences(
            of: "{dependencyName: other, dataKey: body.actions.0.params.namespace}",
            with: "{dependencyName: other, dataKey: body.actions.0.params.namespace, value: default}")
        let defaulted = try Self.lint(Self.eventSource + Self.sensor(parameters: withDefault))
        #expect(
            defaulted.first { $0.rule == "undefined-dependency" }?.message.hasSuffix(
                "its default value 'default' is always used") == true)
        #expect(Self.rules(defaulted).filter { $0 == "param-not-passed" }.count == 2)
    }

    @Test func templateSyntaxInAParameter() throws {
        let parameters = """
                    - src: {dependencyName: d, dataTemplate: "{{ .Input.body.actions[0].name }}", value: x}
                      dest: spec.arguments.parameters.0.value
                    - src: {dependencyName: d, dataTemplate: "{{ if .Input.body }}y{{ end }}", value: x}
                      dest: spec.arguments.parameters.1.value
            """
        let findings = try Self.lint(Self.eventSource + Self.sensor(parameters: parameters))
        let syntax = findings.filter { $0.rule == "template-syntax" }
        #expect(syntax.count == 2)
        #expect(syntax[0].message.contains("a Go template rejects it: bad character U+005B '['"))
        #expect(syntax[1].message.contains("triage-eval cannot evaluate it"))
    }

    @Test func theCatalogsTemplatesAndTimeouts() throws {
        // Dispatched to another template than the catalog's, which does not exist among the manifests.
        let findings = try Self.lint(Self.eventSource + Self.sensor(template: "restart-tpl"))
        #expect(Self.rules(findings) == ["action-not-dispatchable"])
        // The catalog's template missing, and a deadline that is not the timeout.
        let other = Self.eventSource.replacingOccurrences(
            of: "activeDeadlineSeconds: 300", with: "activeDeadlineSeconds: 60")
        #expect(Self.rules(try Self.lint(other + Self.sensor())) == ["deadline-vs-timeout"])
        let none = Self.eventSource.replacingOccurrences(of: "  activeDeadlineSeconds: 300\n", with: "")
        #expect(Self.rules(try Self.lint(none + Self.sensor())) == ["deadline-vs-timeout"])
        let renamed = Self.eventSource.replacingOccurrences(of: "{name: restart-pods-tpl}", with: "{name: restart-tpl}")
        let missing = try Self.lint(renamed + Self.sensor(template: "restart-tpl"))
        #expect(Self.rules(missing) == ["template-without-workflowtemplate", "wrong-workflowtemplate"])
    }

    @Test func aTemplateParameterNothingSets() throws {
        let extra = Self.eventSource.replacingOccurrences(
            of: "{name: selector}]", with: "{name: selector}, {name: grace}]")
        let findings = try Self.lint(extra + Self.sensor())
        #expect(Self.rules(findings).contains("parameter-never-set"))
        #expect(Self.rules(findings).contains("action-not-dispatchable"))
    }

    @Test func onlyTheFirstActionIsANote() throws {
        let findings = try Self.lint(Self.eventSource + Self.sensor())
        #expect(Self.rules(findings, .note) == ["later-actions-dropped"])
    }

    /// The seed's check in the same script as the action (the fixture's) gates it; none at all, or one in a step of
    /// its own that the later steps do not depend on, gates nothing.
    @Test func theIdempotencyCheckMustBeThereAndGate() throws {
        let without = Self.eventSource.replacingOccurrences(of: "running NX EX 1800", with: "running EX 1800")
        #expect(!without.contains("NX"))
        #expect(Self.rules(try Self.lint(without + Self.sensor())) == ["no-idempotency-check"])
        func steps(when: String) -> String {
            Self.eventSource.replacingOccurrences(
                of: """
                      templates:
                        - name: main
                          script:
                    """,
                with: """
                      templates:
                        - name: main
                          steps:
                            - - {name: claim, template: claim}
                            - - {name: act, template: act\(when)}
                        - name: claim
                          script: {image: redis, command: [sh], source: 'redis-cli SET k running NX EX 1800 && echo proceeding'}
                        - name: act
                          script:
                    """)
        }
        let ungated = try Self.lint(steps(when: "") + Self.sensor())
        #expect(Self.rules(ungated) == ["idempotency-check-does-not-gate"], "\(ungated)")
        #expect(ungated.first { $0.rule == "idempotency-check-does-not-gate" }?.message.contains("step 'act'") == true)
        let gated = try Self.lint(
            steps(when: ", when: \"{{steps.claim.outputs.result}} == proceeding\"") + Self.sensor())
        #expect(Self.rules(gated).isEmpty, "\(gated)")
    }

    /// spec.parallelism alone bounds nothing across remediations; the controller's limit or a semaphore does.
    @Test func parallelismWithinOneWorkflowIsANoteWhenItIsTheOnlyLimit() throws {
        let bounded = Self.eventSource.replacingOccurrences(
            of: "  activeDeadlineSeconds: 300\n", with: "  activeDeadlineSeconds: 300\n  parallelism: 1\n")
        #expect(Self.rules(try Self.lint(bounded + Self.sensor()), .note).contains("parallelism-within-one-workflow"))
        let controller = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: workflow-controller-configmap}
            data: {parallelism: "10"}
            ---

            """
        let notes = Self.rules(try Self.lint(controller + bounded + Self.sensor()), .note)
        #expect(!notes.contains("parallelism-within-one-workflow"))
        let semaphore = bounded.replacingOccurrences(
            of: "  parallelism: 1\n",
            with:
                "  parallelism: 1\n  synchronization: {semaphore: {configMapRef: {name: limits, key: remediations}}}\n")
        #expect(
            !Self.rules(try Self.lint(semaphore + Self.sensor()), .note).contains("parallelism-within-one-workflow"))
    }
}

import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

@Suite struct LabelFileTests {
    static func catalog() throws -> Catalog {
        try Catalog.load(path: Fixtures.path("parity/prompt/seed-actions.yaml"))
    }

    static func load(_ yaml: String, incidents: Set<String> = ["inc-1", "inc-2"]) throws -> [Label] {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("labels.yaml", yaml)
        do {
            return try LabelFile.load(path: path, catalog: catalog(), incidents: [], knownIncidents: incidents).labels
        } catch let error as ConfigError {
            // Report the error without the temporary directory, so tests can compare messages.
            throw ConfigError(
                file: "labels.yaml", line: error.line, keyPath: error.keyPath, message: error.message)
        }
    }

    @Test func validLabelsLoad() throws {
        let labels = try Self.load(
            """
            labels:
              inc-1:
                expect: act
                actions:
                  - name: scale_up
                    params: {namespace: shop, deployment: checkout, replicas: 6}
                forbidden: [rollback_release]
              inc-2:
                expect: none
                note: heartbeat
            """)
        #expect(labels.count == 2)
        #expect(
            labels[0].actions == [
                ExpectedAction(
                    ActionCall(
                        name: "scale_up", params: ["namespace": "shop", "deployment": "checkout", "replicas": "6"]))
            ])
        #expect(labels[0].forbidden == ["rollback_release"])
        #expect(labels[1].expect == .none)
        #expect(labels[1].source.hasSuffix("labels.yaml:8"))
    }

    @Test func errorsNameTheLineAndKey() {
        #expect(
            throws: ConfigError(
                file: "labels.yaml", line: 2, keyPath: "labels.inc-9",
                message: "no such incident in the store (ingest the corpus first)")
        ) {
            try Self.load("labels:\n  inc-9:\n    expect: none\n")
        }
        #expect(
            throws: ConfigError(
                file: "labels.yaml", line: 5, keyPath: "labels.inc-1.actions[0].name",
                message: "'drop_db' is not an action of the catalog")
        ) {
            try Self.load("labels:\n  inc-1:\n    expect: act\n    actions:\n      - name: drop_db\n")
        }
        #expect(
            throws: ConfigError(
                file: "labels.yaml", line: 3, keyPath: "labels.inc-1.expect",
                message: "must be act, human or none (got 'maybe')")
        ) {
            try Self.load("labels:\n  inc-1:\n    expect: maybe\n")
        }
        #expect(
            throws: ConfigError(
                file: "labels.yaml", line: 6, keyPath: "labels.inc-1.actions[0].params.pods",
                message: "'restart_pods' has no parameter 'pods' (declared: namespace, selector)")
        ) {
            try Self.load(
                "labels:\n  inc-1:\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {pods: a}\n"
            )
        }
        #expect(
            throws: ConfigError(
                file: "labels.yaml", line: 3, keyPath: "labels.inc-1.colour",
                message: "unknown key 'colour' (allowed: actions, alternatives, expect, forbidden, note)")
        ) {
            try Self.load("labels:\n  inc-1:\n    colour: red\n")
        }
    }

    /// 100,000 hand labels, each `inc-N` on line 2N+2 (a check of every key against the ones before it took
    /// minutes).
    static func manyLabels(_ count: Int, repeating repeated: Int? = nil) -> (yaml: String, ids: Set<String>) {
        var yaml = "labels:\n"
        yaml.reserveCapacity(count * 32)
        for index in 0..<count {
            yaml += "  inc-\(index == repeated ? 0 : index):\n    expect: none\n"
        }
        return (yaml, Set((0..<count).map { "inc-\($0)" }))
    }

    @Test func oneHundredThousandLabelsLoad() throws {
        let (yaml, ids) = Self.manyLabels(100_000)
        let labels = try Self.load(yaml, incidents: ids)
        #expect(labels.count == 100_000)
        #expect(Set(labels.map(\.incidentId)) == ids)
        let last = try #require(labels.first { $0.incidentId == "inc-99999" })
        #expect(last.expect == .none)
        #expect(last.source.hasSuffix("labels.yaml:200000"))
    }

    @Test func aRepeatedIncidentAmongOneHundredThousandNamesItsLine() {
        // The 99,999th entry (index 99,998, on line 199,998) repeats the first one's id.
        let (yaml, ids) = Self.manyLabels(100_000, repeating: 99_998)
        #expect(
            throws: ConfigError(file: "labels.yaml", line: 199_998, keyPath: "labels.inc-0", message: "repeated key")
        ) {
            try Self.load(yaml, incidents: ids)
        }
    }
}

@Suite struct LabelRuleTests {
    static let incidents = [
        IncidentFacts(
            id: "inc-a", receiver: "triage", alertname: "KubePodNotReady",
            labels: ["alertname": "KubePodNotReady", "namespace": "shop", "pod": "web-1"]),
        IncidentFacts(
            id: "inc-b", receiver: "triage", alertname: "KubePodNotReady",
            labels: ["alertname": "KubePodNotReady", "namespace": "kube-system", "pod": "dns-1"]),
        IncidentFacts(
            id: "inc-c", receiver: "triage", alertname: "Watchdog", labels: ["alertname": "Watchdog"]),
        IncidentFacts(
            id: "inc-d", receiver: "other", alertname: "KubePodCrashLooping",
            labels: ["alertname": "KubePodCrashLooping", "namespace": "shop"]),
        IncidentFacts(
            id: "inc-e", receiver: "triage", alertname: "TargetDown", labels: ["alertname": "TargetDown"]),
    ]

    static func load(_ yaml: String) throws -> LabelSet {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("labels.yaml", yaml)
        do {
            return try LabelFile.load(
                path: path, catalog: LabelFileTests.catalog(), incidents: incidents,
                knownIncidents: Set(incidents.map(\.id)))
        } catch let error as ConfigError {
            throw ConfigError(file: "labels.yaml", line: error.line, keyPath: error.keyPath, message: error.message)
        }
    }

    static let rules = """
        rules:
          - match: {alertname: KubePodNotReady, labels: {namespace: {regex: "kube-.*"}}}
            expect: human
            note: system pods need a person
          - match: {alertname: [KubePodNotReady, KubePodCrashLooping], receiver: triage}
            expect: act
            actions:
              - name: restart_pods
                params: {namespace: "{{labels.namespace}}", selector: {regex: "(app|pod)=.+"}}
            alternatives:
              - - name: scale_up
                  params: {namespace: "{{ labels.namespace }}", deployment: {any: true}, replicas: {any: true}}
            forbidden: [rollback_release]
          - match: {alertname: Watchdog}
            expect: none
        labels:
          inc-c:
            expect: human
            note: overridden by hand
        """

    @Test func labelsAreReadOnlyWhereTheFileLooksAtThem() throws {
        let yaml = """
            rules:
              - match: {alertname: KubePodNotReady, labels: {namespace: {regex: "kube-.*"}}}
                expect: human
              - match: {alertname: [KubePodNotReady, KubePodCrashLooping], receiver: triage}
                expect: act
                actions: [{name: restart_pods, params: {namespace: "{{labels.namespace}}", selector: {any: true}}}]
              - match: {alertname: Watchdog}
                expect: none
            labels:
              inc-c: {expect: human}
              inc-e:
                expect: act
                actions: [{name: restart_pods, params: {namespace: "{{labels.namespace}}", selector: {any: true}}}]
            """
        func incident(_ id: String, _ receiver: String, _ alertname: String, _ namespace: String?) -> IncidentFacts {
            IncidentFacts(
                id: id, receiver: receiver, alertname: alertname,
                labels: namespace.map { ["alertname": alertname, "namespace": $0] } ?? ["alertname": alertname])
        }
        let incidents = [
            incident("inc-a", "triage", "KubePodNotReady", "shop"),  // rule 0's label match is tried: read
            incident("inc-b", "triage", "KubePodNotReady", "kube-system"),  // the same: read
            incident("inc-c", "triage", "Watchdog", nil),  // a hand label without a template: not read
            incident("inc-d", "other", "KubePodCrashLooping", "shop"),  // no rule matches: not read
            incident("inc-e", "triage", "TargetDown", "cart"),  // a hand label with a template: read
            incident("inc-f", "triage", "KubePodCrashLooping", "cart"),  // rule 1, which has a template: read
            incident("inc-g", "triage", "Watchdog", nil),  // rule 2, alert name alone, no template: not read
        ]
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("labels.yaml", yaml)
        let known = Set(incidents.map(\.id))
        let eager = try LabelFile.load(
            path: path, catalog: LabelFileTests.catalog(), incidents: incidents, knownIncidents: known)
        var asked: [[Int]] = []
        let deferred = try LabelFile.load(
            path: path, catalog: LabelFileTests.catalog(),
            incidents: incidents.map {
                IncidentFacts(id: $0.id, receiver: $0.receiver, alertname: $0.alertname, labels: [:])
            },
            knownIncidents: known,
            labels: { positions in
                asked.append(positions)
                return positions.map { incidents[$0].labels }
            })
        #expect(asked == [[0, 1, 4, 5]])
        #expect(deferred == eager)
        let byId = Dictionary(uniqueKeysWithValues: deferred.labels.map { ($0.incidentId, $0) })
        #expect(byId["inc-a"]?.expect == .act)
        #expect(byId["inc-a"]?.actions.first?.params["namespace"] == .exact("shop"))
        #expect(byId["inc-b"]?.expect == .human)
        #expect(byId["inc-e"]?.actions.first?.params["namespace"] == .exact("cart"))
        #expect(byId["inc-f"]?.actions.first?.params["namespace"] == .exact("cart"))
        #expect(byId["inc-g"]?.expect == ExpectedOutcome.none)
        #expect(deferred.unlabelled == ["inc-d"])
    }

    @Test func firstMatchingRuleWinsAndHandLabelsOverride() throws {
        let set = try Self.load(Self.rules)
        let byId = Dictionary(uniqueKeysWithValues: set.labels.map { ($0.incidentId, $0) })
        #expect(byId["inc-b"]?.expect == .human)
        #expect(byId["inc-b"]?.byRule == true)
        #expect(byId["inc-b"]?.source == "labels.yaml:2" || byId["inc-b"]?.source.hasSuffix("labels.yaml:2") == true)
        let a = try #require(byId["inc-a"])
        #expect(a.expect == .act)
        #expect(
            a.actions == [
                ExpectedAction(
                    name: "restart_pods", params: ["namespace": .exact("shop"), "selector": .regex("(app|pod)=.+")])
            ])
        #expect(
            a.alternatives == [
                [
                    ExpectedAction(
                        name: "scale_up", params: ["namespace": .exact("shop"), "deployment": .any, "replicas": .any])
                ]
            ])
        #expect(a.forbidden == ["rollback_release"])
        // inc-d is KubePodCrashLooping but for receiver "other": no rule matches.
        #expect(byId["inc-d"] == nil)
        #expect(byId["inc-c"]?.expect == .human)
        #expect(byId["inc-c"]?.byRule == false)
        #expect(set.unlabelled == ["inc-d", "inc-e"])
    }

    @Test func matchersCompareChosenCalls() throws {
        let a = try #require(try Self.load(Self.rules).labels.first { $0.incidentId == "inc-a" })
        let restart = ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "app=web"])
        #expect(a.actions[0].matches(restart))
        #expect(
            !a.actions[0].matches(ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "x"])))
        #expect(
            !a.actions[0].matches(
                ActionCall(name: "restart_pods", params: ["namespace": "cart", "selector": "app=web"])))
        // A regex must match the whole value.
        #expect(
            !a.actions[0].matches(
                ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "xapp=web"])))
        // Every expected parameter must be given, and no other.
        #expect(!a.actions[0].matches(ActionCall(name: "restart_pods", params: ["namespace": "shop"])))
        let scale = ActionCall(name: "scale_up", params: ["namespace": "shop", "deployment": "web", "replicas": "5"])
        #expect(a.alternatives[0][0].matches(scale))

        let router = Router(threshold: 0.7, approvalGate: true, approvalRequired: ["rollback_release"])
        let validator = DecisionValidator(allowedNames: ["restart_pods", "scale_up", "rollback_release"])
        func score(_ actions: String) -> SampleScore {
            let verdict = validator.validate(
                #"{"incident_id":"inc-a","actions":[\#(actions)],"confidence":0.9,"needs_human":false}"#)
            return Scorer.score(label: a, verdict: verdict, route: router.route(verdict).route, router: router)
        }
        let viaAlternative = score(
            #"{"name":"scale_up","params":{"namespace":"shop","deployment":"web","replicas":"5"},"rationale":"r"}"#)
        #expect(viaAlternative.decisionCorrect && !viaAlternative.unsafe)
        #expect(viaAlternative.matched == ["scale_up"] && viaAlternative.missed.isEmpty)
        let both = score(
            #"{"name":"restart_pods","params":{"namespace":"shop","selector":"pod=web-1"},"rationale":"r"},{"name":"scale_up","params":{"namespace":"shop","deployment":"web","replicas":"5"},"rationale":"r"}"#
        )
        // Not one acceptable set, but every call is allowed: wrong, not unsafe.
        #expect(!both.decisionCorrect && !both.unsafe)
        #expect(both.matched == ["restart_pods"] && both.extra == ["scale_up"] && both.missed.isEmpty)
        let elsewhere = score(
            #"{"name":"restart_pods","params":{"namespace":"cart","selector":"app=web"},"rationale":"r"}"#)
        #expect(!elsewhere.decisionCorrect && elsewhere.unsafe && elsewhere.unsafeIfExecuted)
        #expect(elsewhere.extra == ["restart_pods"] && elsewhere.missed == ["restart_pods"])
        let rollback = score(
            #"{"name":"rollback_release","params":{"namespace":"shop","release":"web"},"rationale":"r"}"#)
        #expect(rollback.gated && !rollback.unsafe && rollback.unsafeIfExecuted)
    }

    @Test func errorsNameFileLineAndKey() {
        func expectError(_ yaml: String, line: Int?, keyPath: String, message: String) {
            #expect(throws: ConfigError(file: "labels.yaml", line: line, keyPath: keyPath, message: message)) {
                try Self.load(yaml)
            }
        }
        expectError(
            "rules:\n  - match: {alertname: X}\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {namespace: a}\n",
            line: 6, keyPath: "rules[0].actions[0].params.selector",
            message: "missing: 'restart_pods' declares it (write {any: true} if any value is right)")
        let badRegex = #expect(throws: ConfigError.self) {
            try Self.load(
                "rules:\n  - match: {alertname: X}\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {namespace: a, selector: {regex: \"(\"}}\n"
            )
        }
        #expect(badRegex?.line == 6)
        #expect(badRegex?.keyPath == "rules[0].actions[0].params.selector.regex")
        #expect(badRegex?.message.hasPrefix("not a valid regular expression") == true)
        expectError(
            "rules:\n  - expect: none\n", line: 2, keyPath: "rules[0].match",
            message: "missing (a rule says which incidents it labels)")
        expectError(
            "rules:\n  - match: {alertname: KubePodNotReady}\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {namespace: \"{{labels.team}}\", selector: {any: true}}\n",
            line: 2, keyPath: "rules[0].actions.restart_pods.params.namespace",
            message: "incident inc-a has no label 'team' for '{{labels.team}}'")
        expectError(
            "rules:\n  - match: {alertname: X}\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {namespace: \"{{env.HOME}}\", selector: {any: true}}\n",
            line: 6, keyPath: "rules[0].actions[0].params.namespace",
            message: "'{{env.HOME}}': the only template is {{labels.NAME}}, an incident's label")
        expectError(
            "rules:\n  - match: {alertname: X}\n    expect: human\n    alternatives:\n      - - name: restart_pods\n          params: {namespace: a, selector: b}\n",
            line: 5, keyPath: "rules[0].alternatives", message: "only expect: act lists actions")
        expectError(
            "rules:\n  - match: {alertname: X}\n    expect: act\n    actions:\n      - name: restart_pods\n        params: {namespace: a, selector: b}\n    forbidden: [restart_pods]\n",
            line: 7, keyPath: "rules[0].forbidden", message: "'restart_pods' is both expected and forbidden")
    }
}

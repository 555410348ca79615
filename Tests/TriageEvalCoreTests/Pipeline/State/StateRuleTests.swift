import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// Each state rule alone, on timelines worked out by hand (production time in seconds from 0).
@Suite struct StateRuleTests {
    // MARK: - Idempotency

    @Test func aKeyHoldsForItsTTLInclusiveThenASetReplacesIt() {
        var keys = IdempotencyKeys()
        let key = keys.key(incidentId: "inc-a", action: "restart_pods")
        #expect(key == "remediation:inc-a:restart_pods")
        #expect(keys.setIfAbsent(key, at: 0, incident: "inc-a") == .set(expired: nil))
        let holder = IdempotencyKeys.Holder(setAt: 0, incidentId: "inc-a", expiresAt: 1800)
        // A repeat inside the TTL: "already in progress". At exactly 1800 s the key still exists (Redis expires a
        // key only once now > its expiry).
        #expect(keys.setIfAbsent(key, at: 600, incident: "inc-a") == .held(by: holder))
        #expect(keys.setIfAbsent(key, at: 1800, incident: "inc-a") == .held(by: holder))
        // Alertmanager's repeat 4h05m later: the key expired long ago; the action runs again.
        #expect(keys.setIfAbsent(key, at: 14_700, incident: "inc-a") == .set(expired: holder))
        // Another action of the same incident is never deduplicated against the first.
        #expect(
            keys.setIfAbsent(keys.key(incidentId: "inc-a", action: "scale_up"), at: 14_701, incident: "inc-a")
                == .set(expired: nil))
    }

    @Test func aReusedModelIdMakesAnotherIncidentFindTheKey() {
        var keys = IdempotencyKeys(template: "lock/{action}/{incident_id}", ttl: 60)
        let key = keys.key(incidentId: "INC-1", action: "restart_pods")
        #expect(key == "lock/restart_pods/INC-1")
        _ = keys.setIfAbsent(key, at: 100, incident: "inc-a")
        #expect(
            keys.setIfAbsent(key, at: 130, incident: "inc-b")
                == .held(by: .init(setAt: 100, incidentId: "inc-a", expiresAt: 160)))
    }

    // MARK: - Deploys

    /// frontend in shop on prod-eu1, from 1000 s to 1600 s; a 600 s window.
    static let frontend = DeployTimeline.Deploy(
        service: "frontend", namespace: "shop", cluster: "prod-eu1", start: 1000, end: 1600, revision: "v2")

    @Test func theWindowIsAnchoredAtTheDeploysStartOrItsEndWithClosedOpenEdges() {
        let alert = [DeployTimeline.Target(service: "frontend", namespace: "shop", cluster: "prod-eu1")]
        let start = DeploySuppression(timeline: DeployTimeline([Self.frontend]), window: 600, anchor: .start)
        // start: [1000, 1600).
        #expect(start.suppressing(alert, at: 999.999) == nil)
        #expect(start.suppressing(alert, at: 1000) == 0)
        #expect(start.suppressing(alert, at: 1599.999) == 0)
        #expect(start.suppressing(alert, at: 1600) == nil)
        // end: while it runs and for 600 s after it ends, [1000, 2200).
        let end = DeploySuppression(timeline: DeployTimeline([Self.frontend]), window: 600, anchor: .end)
        #expect(end.suppressing(alert, at: 999) == nil)
        #expect(end.suppressing(alert, at: 1000) == 0)
        #expect(end.suppressing(alert, at: 2199.999) == 0)
        #expect(end.suppressing(alert, at: 2200) == nil)
        // A run counts as during the deploy on [start, end + window) whatever the anchor, and with suppression off.
        var off = start
        off.suppress = false
        #expect(off.suppressing(alert, at: 1200) == nil)
        #expect(off.activity(alert, at: 1800) == 0)
        #expect(off.activity(alert, at: 2200) == nil)
    }

    @Test func aDeployMatchesTheAlertsServiceElseItsNamespaceAndDeployment() {
        let deploy = Self.frontend
        func match(_ target: DeployTimeline.Target) -> Bool { DeployTimeline.matches(deploy, target) }
        #expect(match(.init(service: "frontend")))
        #expect(
            !match(.init(service: "checkout", deployment: "frontend")), "the service label decides when there is one")
        #expect(match(.init(namespace: "shop", deployment: "frontend")))
        #expect(!match(.init(namespace: "media", deployment: "frontend")))
        #expect(!match(.init(namespace: "shop")), "a namespace alone names no service")
        #expect(!match(.init(service: "frontend", cluster: "prod-us1")), "a deploy to another cluster")
        #expect(match(.init(service: "frontend", cluster: nil)))
        // Of a message's alerts, any one may match.
        let suppression = DeploySuppression(timeline: DeployTimeline([deploy]))
        #expect(suppression.suppressing([.init(service: "cart"), .init(service: "frontend")], at: 1100) == 0)
    }

    @Test func aBodysTargetsAreItsAlertsLabels() {
        let body = #"""
            {"receiver": "r", "alerts": [
              {"status": "firing", "labels": {"alertname": "A", "service": "cart", "cluster": "eu", "x": {"y": [1]}},
               "annotations": {"service": "not a label"}},
              {"labels": {"namespace": "shop", "deployment": "web", "namespace": "media"}},
              {"labels": {"service": "cart", "cluster": "eu"}},
              {"labels": {"service": 7}}, "not an alert"],
             "commonLabels": {"service": "ignored"}}
            """#
        #expect(
            DeployTimeline.targets(body: Array(body.utf8)) == [
                .init(service: "cart", cluster: "eu"), .init(namespace: "media", deployment: "web"), .init(),
            ])
        #expect(DeployTimeline.targets(body: Array("not json".utf8)) == [])
        #expect(
            DeployTimeline.targets(body: Array(#"{"alerts": [{"labels": {"service": "a"}}], "alerts": []}"#.utf8)) == []
        )
    }

    @Test func targetsAreStoredAsAJSONListOfFourFieldListsAndReadBack() {
        let targets: [DeployTimeline.Target] = [
            .init(service: "cart", cluster: "eu"), .init(namespace: "media", deployment: "web \"v2\"\u{e9}"), .init(),
        ]
        let text = DeployTimeline.storedText(targets)
        // Written by hand: json.dumps of the lists, null for a missing label, non-ASCII escaped.
        #expect(
            text
                == #"[["cart", null, null, "eu"], [null, "media", "web \"v2\"\u00e9", null], [null, null, null, null]]"#
        )
        #expect(DeployTimeline.targets(storedText: text) == targets)
        #expect(DeployTimeline.storedText([]) == "[]")
        #expect(DeployTimeline.targets(storedText: "[]") == [])
        // Anything else is no stored list (the replay then reads the body).
        for bad in ["", "{}", #"[["a", null, null]]"#, #"[["a", 1, null, null]]"#, "[1]"] {
            #expect(DeployTimeline.targets(storedText: bad) == nil, "\(bad)")
        }
    }

    @Test func timelinesAreReadFromJSONLinesAndGrafanaExportsWithErrorsNamingTheirPlace() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let lines = try temp.write(
            "deploys.jsonl",
            #"""
            {"service": "frontend", "namespace": "shop", "cluster": "prod-eu1", "start": "2026-12-03T19:32:12.315Z", "end": "2026-12-03T19:39:12.315Z", "revision": "2026.12.01-1"}

            {"service": "cart", "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T10:05:00Z"}
            """#)
        let timeline = try DeployTimeline.load(path: lines)
        #expect(timeline.deploys.map(\.service) == ["cart", "frontend"], "sorted by start")
        #expect(timeline.deploys[1].start == 1_796_326_332.315 && timeline.deploys[1].end == 1_796_326_752.315)
        #expect(timeline.deploys[1].source == "\(lines):1")
        let grafana = try temp.write(
            "annotations.json",
            #"""
            [{"id": 7, "time": 1796326332315, "timeEnd": 1796326752315, "tags": ["deploy", "service:frontend", "namespace=shop", "cluster:prod-eu1"], "text": "v2.14.0"},
             {"time": 1796326000000, "timeEnd": 0, "tags": ["service:cart", "revision:7"], "text": "deployed"}]
            """#)
        let imported = try DeployTimeline.load(path: grafana)
        #expect(
            imported.deploys == [
                .init(
                    service: "cart", start: 1_796_326_000, end: 1_796_326_000, revision: "7", source: "\(grafana)[1]"),
                .init(
                    service: "frontend", namespace: "shop", cluster: "prod-eu1", start: 1_796_326_332.315,
                    end: 1_796_326_752.315, revision: "v2.14.0", source: "\(grafana)[0]"),
            ])
        for (text, expected) in [
            (#"{"service": "x", "start": "2026-12-03T10:00:00Z", "end": "yesterday"}"#, ":1: end"),
            ("\n" + #"{"service": "x", "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T09:00:00Z"}"#, ":2: end"),
            (#"{"servce": "x"}"#, ":1: servce"),
            (#"{"start": "2026-12-03T10:00:00Z", "end": "2026-12-03T10:00:00Z"}"#, ":1: service"),
            (#"[{"time": 1, "tags": ["deploy"]}]"#, ": [0].tags"),
        ] {
            let path = try temp.write("bad", text)
            #expect {
                try DeployTimeline.load(path: path)
            } throws: { error in
                (error as? ConfigError)?.errorDescription?.contains(expected) ?? false
            }
        }
    }

    // MARK: - Parallelism

    @Test func pendingWorkflowsStartInCreationOrderAsSlotsFree() {
        var queue = WorkflowQueue<String>(limit: 2)
        for name in ["a", "b", "c"] { queue.enqueue(name, namespace: "shop") }
        #expect(queue.admit() == ["a", "b"])
        #expect(queue.queued == 1 && queue.running == 2)
        #expect(queue.admit() == [])
        queue.finished(namespace: "shop")
        #expect(queue.admit() == ["c"])
        // Per namespace: one of shop at a time lets media's later Workflow start first.
        var perNamespace = WorkflowQueue<String>(limit: 3, namespaceLimit: 1)
        perNamespace.enqueue("shop-1", namespace: "shop")
        perNamespace.enqueue("shop-2", namespace: "shop")
        perNamespace.enqueue("media-1", namespace: "media")
        #expect(perNamespace.admit() == ["shop-1", "media-1"])
        perNamespace.finished(namespace: "shop")
        #expect(perNamespace.admit() == ["shop-2"])
    }

    // MARK: - Approvals

    static let act = Label(
        incidentId: "inc-a", expect: .act,
        actions: [ExpectedAction(name: "restart_pods", params: ["namespace": .exact("shop"), "selector": .any])],
        forbidden: ["rollback_release"], note: nil, source: "test")
    static let human = Label(
        incidentId: "inc-h", expect: .human, actions: [], forbidden: [], note: nil, source: "test")

    @Test func eachApproverModelAnswersOrLetsTheRequestExpire() {
        let restart = [ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "app=cart"])]
        let scale = [ActionCall(name: "scale_up", params: ["namespace": "shop"])]
        // Posted at 100 s; the seed's 30-minute TTL; an answer after 5 minutes.
        let none = ApprovalDesk(approver: .none)
        #expect(none.answer(postedAt: 100, decision: restart, label: Self.act) == (.expired, 1900))
        let label = ApprovalDesk(approver: .label)
        #expect(label.answer(postedAt: 100, decision: restart, label: Self.act) == (.approved, 400))
        #expect(label.answer(postedAt: 100, decision: scale, label: Self.act) == (.rejected, 400))
        #expect(label.answer(postedAt: 100, decision: restart + scale, label: Self.act) == (.rejected, 400))
        #expect(label.answer(postedAt: 100, decision: [], label: Self.act) == (.rejected, 400))
        #expect(label.answer(postedAt: 100, decision: restart, label: Self.human) == (.rejected, 400))
        #expect(label.answer(postedAt: 100, decision: restart, label: nil) == (.rejected, 400))
        let all = ApprovalDesk(approver: .all)
        #expect(all.answer(postedAt: 100, decision: scale, label: Self.human) == (.approved, 400))
        // An answer due at the TTL, or after it, comes too late: the request is open on [posted, posted + ttl).
        #expect(
            ApprovalDesk(approver: .all, ttl: 600, after: 600).answer(postedAt: 0, decision: scale, label: nil) == (
                .expired, 600
            ))
        #expect(
            ApprovalDesk(approver: .all, ttl: 600, after: 599).answer(postedAt: 0, decision: scale, label: nil) == (
                .approved, 599
            ))
    }

    // MARK: - Runs judged

    @Test func aRunIsCorrectOnlyWhenTheLabelExpectsItAndNothingHarmful() {
        let expected = ActionCall(name: "restart_pods", params: ["namespace": "shop", "selector": "app=cart"])
        func verdict(
            _ call: ActionCall, label: Label? = StateRuleTests.act, resolved: Bool = false, deploy: Bool = false,
            duplicate: Bool = false, wrongId: Bool = false
        ) -> RunVerdict {
            RunVerdict(
                call: call, label: label, resolved: resolved, duringDeploy: deploy, duplicate: duplicate,
                wrongIncidentId: wrongId)
        }
        #expect(verdict(expected) == RunVerdict(harms: [], correct: true))
        #expect(verdict(ActionCall(name: "rollback_release", params: [:])).harms == [.forbidden])
        #expect(
            verdict(ActionCall(name: "restart_pods", params: ["namespace": "media", "selector": "x"])).harms == [
                .notExpected
            ])
        #expect(verdict(expected, label: Self.human).harms == [.notExpected])
        #expect(
            verdict(expected, resolved: true, deploy: true, duplicate: true, wrongId: true).harms == [
                .onResolved, .duringDeploy, .duplicate, .wrongIncidentId,
            ])
        #expect(verdict(expected, resolved: true).correct == false)
        // An unlabelled incident's run: no expectation either way.
        #expect(verdict(expected, label: nil) == RunVerdict(harms: [], correct: false))
    }
}

extension RunVerdict {
    init(harms: [Harm], correct: Bool) {
        self.init(
            call: ActionCall(name: "", params: [:]), label: nil, resolved: false, duringDeploy: false, duplicate: false,
            wrongIncidentId: false)
        self.harms = harms
        self.correct = correct
    }
}

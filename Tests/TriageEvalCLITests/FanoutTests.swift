import Foundation
import GRDB
import Testing
import TriageEvalTestSupport

/// Sharding a run across machines (`run --shard I/N`, `merge`) and the Argo fan-out that does it, run here by
/// `scripts/fanout-local` — the template's own steps as local processes — against the fake provider and offline.
@Suite(.serialized) struct FanoutTests {
    static let template = Repository.path("scripts/fanout.d/workflowtemplate.yaml")

    /// What fanout-local printed and how it exited.
    struct Fanout {
        var status: Int32
        var stdout: String
        var stderr: String
        var workdir: String
    }

    /// Runs `scripts/fanout-local N SCENARIO` with the built binary.
    static func fanout(
        _ shards: Int, _ scenario: String, workdir: String, extra: [String] = [], environment: [String: String] = [:]
    ) throws -> Fanout {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Repository.path("scripts/fanout-local"))
        process.arguments = [String(shards), scenario, "--workdir", workdir] + extra
        process.environment = BinaryRunner.environment(
            environment.merging(["TRIAGE_EVAL_BIN": BinaryRunner.binaryPath]) { $1 })
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = Thread.detachedRead(err)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Fanout(
            status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: errors.wait(), workdir: workdir)
    }

    static func report(_ folder: String, _ runId: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(runId)/report.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// The report without what may differ between two runs of the same work: the run's id and times, the live
    /// calls' latencies, and the merged run's note of how many shards it came from.
    static func comparable(_ report: [String: Any]) -> NSDictionary {
        var report = report
        var run = report["run"] as! [String: Any]
        for key in ["id", "startedAt", "finishedAt", "mergedShards"] { run.removeValue(forKey: key) }
        report["run"] = run
        var sources = report["sources"] as! [String: Any]
        for key in ["medianLatencyMs", "p95LatencyMs"] { sources.removeValue(forKey: key) }
        report["sources"] = sources
        return report as NSDictionary
    }

    /// The key paths at which two JSON values differ (empty when equal), for a readable failure.
    static func differences(_ left: Any?, _ right: Any?, at path: String = "") -> [String] {
        switch (left, right) {
        case (let left as [String: Any], let right as [String: Any]):
            return Set(left.keys).union(right.keys).sorted().flatMap {
                differences(left[$0], right[$0], at: path + "." + $0)
            }
        case (let left as [Any], let right as [Any]):
            guard left.count == right.count else { return ["\(path): \(left.count) vs \(right.count) items"] }
            return zip(left, right).enumerated().flatMap { differences($1.0, $1.1, at: path + "[\($0)]") }
        default:
            let same = (left as? NSObject).map { $0.isEqual(right) } ?? (right == nil)
            return same
                ? [] : ["\(path): \(String(describing: left).prefix(120)) vs \(String(describing: right).prefix(120))"]
        }
    }

    /// The scenario k8s-week-claude.yaml (the template's default) pointed at the fake provider, gates loosened so a
    /// run passes them.
    static func recordingScenario(_ temp: TemporaryDirectory, port: Int) throws -> String {
        let text = try String(contentsOfFile: Repository.path("scenarios/live/k8s-week-claude.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "name: k8s-week-claude", with: "name: fanout")
            .replacingOccurrences(of: "../../corpora/", with: Repository.path("corpora") + "/")
            .replacingOccurrences(of: "../templates/", with: Repository.path("scenarios/templates") + "/")
            .replacingOccurrences(of: "../pipelines/", with: Repository.path("scenarios/pipelines") + "/")
            .replacingOccurrences(of: "https://api.anthropic.com", with: "http://127.0.0.1:\(port)")
            .replacingOccurrences(
                of: "rate_limit: {requests_per_minute: 50, tokens_per_minute: 40000}",
                with: "rate_limit: {requests_per_minute: 600000}"
            )
            .replacingOccurrences(of: "max_invalid_json_rate: 0.05", with: "max_invalid_json_rate: 0.5")
            .replacingOccurrences(of: "max_unsafe_executions: 0", with: "max_unsafe_executions: 1000")
        #expect(text.contains("http://127.0.0.1:\(port)") && text.contains("600000") && text.contains("0.5\n"))
        #expect(!text.contains("../"), "every path made absolute")
        return try temp.write("fanout.yaml", text)
    }

    /// Replies that vary by message (chosen by the user message's hash, whatever order the calls come in):
    /// decisions that do nothing, restart pods, roll back (approve), defer to a person, and invalid JSON.
    static var replies: [String: Any] {
        [
            "default": [
                "choices": [
                    #"{"incident_id": "{incident}", "actions": [], "confidence": 0.9, "needs_human": false}"#,
                    #"{"incident_id": "{incident}", "actions": [{"name": "restart_pods", "params": {"namespace": "payments", "selector": "app=api"}, "rationale": "crash loop"}], "confidence": 0.85, "needs_human": false}"#,
                    "not json at all",
                    #"{"incident_id": "{incident}", "actions": [], "confidence": 0.4, "needs_human": true}"#,
                    #"{"incident_id": "{incident}", "actions": [{"name": "rollback_release", "params": {"namespace": "shop", "release": "checkout"}, "rationale": "bad deploy"}], "confidence": 0.95, "needs_human": false}"#,
                ]
            ]
        ]
    }

    /// Three shards record against the fake provider at once; shard 2 is killed mid-way (SIGKILL, a lost pod) and
    /// retried on its store, where it continues its run; the merge equals one run of the same scenario on one
    /// machine.
    @Test func threeRecordingShardsOneKilledAndRetriedMergeToTheSingleRun() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let server = try FakeProvider(script: Self.replies, directory: temp)
        defer { server.stop() }
        let scenario = try Self.recordingScenario(temp, port: server.port)
        let key = ["ANTHROPIC_API_KEY": "sk-fanout-test"]

        let single = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("single.sqlite"), "--reports", temp.file("single-reports")],
            environment: key)
        #expect(single.status == 0, "\(single.stderr)")
        let singleCalls = try server.requests().count
        let singleReport = try Self.report(
            temp.file("single-reports"), single.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let planned = try #require((singleReport["pipeline"] as? [String: Any])?["planned"] as? Int)
        #expect(singleCalls == planned, "one call per planned message (its n-th planning is sample n)")

        let fanout = try Self.fanout(
            3, scenario, workdir: temp.file("fanout"), extra: ["--kill-shard", "2", "--after-replies", "60"],
            environment: key)
        #expect(fanout.status == 0, "\(fanout.stderr)")
        #expect(fanout.stderr.contains("killing the shard (SIGKILL)"))
        #expect(fanout.stderr.contains("shard(2/3): retrying (retryStrategy limit 3)"))
        let retry = try String(contentsOfFile: "\(fanout.workdir)/shard(2-3).attempt-2.log", encoding: .utf8)
        #expect(retry.contains("continuing shard 2/3's run"), "\(retry)")
        // The retry called only what the killed attempt had not stored: at most the calls in flight (concurrency
        // 8) were made twice.
        let fanoutCalls = try server.requests().count - singleCalls
        #expect(fanoutCalls >= singleCalls && fanoutCalls <= singleCalls + 8, "\(fanoutCalls) vs \(singleCalls)")

        let mergedId = fanout.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let merged = try Self.report("\(fanout.workdir)/work/reports", mergedId)
        #expect(Self.differences(Self.comparable(merged), Self.comparable(singleReport)) == [])
        #expect((merged["run"] as! [String: Any])["mergedShards"] as? Int == 3)
        #expect((singleReport["run"] as! [String: Any])["mergedShards"] == nil)
        let sources = merged["sources"] as! [String: Any]
        #expect(sources["liveCalls"] as? Int == singleReport["results"] as? Int && sources["cacheHits"] as? Int == 0)
        let markdown = try String(
            contentsOfFile: "\(fanout.workdir)/work/reports/\(mergedId)/report.md", encoding: .utf8)
        #expect(markdown.contains("Merged from 3 shards"))

        // Each shard replayed exactly its incidents (Python's hashlib decides whose they are), the three together
        // every labelled incident once; each shard's report says it is partial.
        var seen: [String] = []
        for index in 1...3 {
            let store = "\(fanout.workdir)/work/shards/shard-\(index).sqlite"
            let (runId, incidents) = try DatabaseQueue(path: store).read { db in
                (
                    try String.fetchOne(db, sql: "SELECT id FROM run WHERE shard = ?", arguments: ["\(index)/3"])!,
                    try String.fetchAll(db, sql: "SELECT DISTINCT incidentId FROM result ORDER BY incidentId")
                )
            }
            let buckets = try Python.run(
                """
                import hashlib, sys
                print(" ".join(str(int.from_bytes(hashlib.sha256(i.encode()).digest()[:8], "big") % 3 + 1)
                               for i in sys.argv[1:]))
                """, arguments: incidents)
            #expect(Set(buckets.split(separator: " ")) == ["\(index)"])
            seen += incidents
            let shardReport = try String(
                contentsOfFile: "\(fanout.workdir)/work/shard-reports/\(runId)/report.md", encoding: .utf8)
            #expect(
                shardReport.contains("Partial run: shard \(index) of 3 (run --shard \(index)/3), \(incidents.count) of")
            )
            #expect(!shardReport.contains("## Pipeline"), "the state rules run only in the merge")
        }
        #expect(
            seen.count == Set(seen).count
                && seen.count == (singleReport["coverage"] as! [String: Any])["replayed"] as? Int)
    }

    /// A shard whose calls failed in transport (after its retries) is not done: it exits 1, which the template's
    /// retryStrategy retries, and the same command continues the run and calls again only what failed; the merge
    /// then takes it.
    @Test func aShardWhoseCallsFailedExitsOneAndTheSameCommandRetriesThem() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let split = try BinaryRunner.run(
            [
                "shards", Repository.path("scenarios/k8s-week-pipeline.yaml"), "--count", "1", "--db",
                temp.file("s.sqlite"),
            ])
        #expect(split.status == 0, "\(split.stderr)")
        let incident = try #require(
            try DatabaseQueue(path: temp.file("s.sqlite")).read {
                try String.fetchOne($0, sql: "SELECT id FROM incident ORDER BY id LIMIT 1")
            })
        // The incident's first two calls are cut off (connection reset); its later ones, and every other, answer.
        var script = Self.replies
        script["incidents"] = [incident: [["reset": true], ["reset": true], [:]]]
        let server = try FakeProvider(script: script, directory: temp)
        defer { server.stop() }
        let scenario = try temp.write(
            "failing.yaml",
            String(contentsOfFile: Self.recordingScenario(temp, port: server.port), encoding: .utf8)
                .replacingOccurrences(of: "retry: {max_attempts: 5}", with: "retry: {max_attempts: 1}"))
        let key = ["ANTHROPIC_API_KEY": "sk-fanout-test"]
        let command = [
            "run", scenario, "--shard", "1/1", "--db", temp.file("shard.sqlite"), "--reports", temp.file("r"),
        ]
        let failed = try BinaryRunner.run(command, environment: key)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("run the same command again"), "\(failed.stderr)")
        let callsBefore = try server.requests().count
        let retried = try BinaryRunner.run(command, environment: key)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("continuing shard 1/1's run"), "\(retried.stderr)")
        let retriedCalls = try server.requests().count - callsBefore
        // Only what failed is called again: the incident's cut-off calls (one or two, as its messages go), never
        // the shard's ~1,200 others.
        #expect((1...2).contains(retriedCalls), "only the failed calls are made again, not \(retriedCalls)")
        let again = try BinaryRunner.run(command, environment: key)
        #expect(again.status == 0 && again.stderr.contains("is complete: writing its reports"), "\(again.stderr)")
        #expect(try server.requests().count - callsBefore == retriedCalls, "a complete shard calls nothing")
        let merged = try BinaryRunner.run(
            [
                "merge", scenario, temp.file("shard.sqlite"), "--db", temp.file("merged.sqlite"), "--reports",
                temp.file("r"),
            ])
        #expect(merged.status == 0, "\(merged.stderr)")
    }

    /// Production plans every message, labelled or not, and so does the merge: each shard records the messages of
    /// every incident that hashes to it, so a corpus with unlabelled incidents merges to the single run too.
    @Test func unlabelledIncidentsMessagesAreRecordedByTheirShard() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let corpus = temp.file("k8s-week-partial")
        try FileManager.default.copyItem(atPath: Repository.path("corpora/k8s-week"), toPath: corpus)
        // The first 20 of the 44 rules: the incidents only later rules matched are unlabelled.
        let labels = try String(contentsOfFile: "\(corpus)/labels.yaml", encoding: .utf8)
        let rules = labels.components(separatedBy: "\n  - match:")
        try (rules.prefix(21).joined(separator: "\n  - match:") + "\n")
            .write(toFile: "\(corpus)/labels.yaml", atomically: true, encoding: .utf8)
        let server = try FakeProvider(script: Self.replies, directory: temp)
        defer { server.stop() }
        let scenario = try temp.write(
            "partial.yaml",
            String(contentsOfFile: Self.recordingScenario(temp, port: server.port), encoding: .utf8)
                .replacingOccurrences(of: Repository.path("corpora/k8s-week") + "\n", with: corpus + "\n"))
        let key = ["ANTHROPIC_API_KEY": "sk-fanout-test"]
        let single = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("single.sqlite"), "--reports", temp.file("single-reports")],
            environment: key)
        #expect(single.status == 0, "\(single.stderr)")
        let singleReport = try Self.report(
            temp.file("single-reports"), single.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let coverage = try #require(singleReport["coverage"] as? [String: Any])
        #expect((coverage["unlabelled"] as? Int ?? 0) > 20, "\(coverage)")
        let fanout = try Self.fanout(2, scenario, workdir: temp.file("fanout"), environment: key)
        #expect(fanout.status == 0, "\(fanout.stderr)")
        let merged = try Self.report(
            "\(fanout.workdir)/work/reports", fanout.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(Self.differences(Self.comparable(merged), Self.comparable(singleReport)) == [])
    }

    /// Offline (cache: replay of the shipped replies), two shards through the template's steps merge to the same
    /// report as one run, the Pipeline section included.
    @Test func replayingShardsMergeToTheSingleRunOffline() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // Relative to the repository, as the template names it (the image's working directory is the repository),
        // so that both runs record the same paths.
        let scenario = "scenarios/k8s-week-pipeline.yaml"
        let single = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("single.sqlite"), "--reports", temp.file("single-reports")],
            in: Repository.path("."))
        #expect(single.status == 0, "\(single.stderr)")
        let singleReport = try Self.report(
            temp.file("single-reports"), single.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let fanout = try Self.fanout(2, scenario, workdir: temp.file("fanout"))
        #expect(fanout.status == 0, "\(fanout.stderr)")
        let merged = try Self.report(
            "\(fanout.workdir)/work/reports", fanout.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(merged["pipeline"] != nil)
        #expect(Self.differences(Self.comparable(merged), Self.comparable(singleReport)) == [])
        // The split step's list: the shards and their shares, which the shards' own runs replayed.
        let list =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(fanout.workdir)/work/shards.json"))) as! [[String: Any]]
        #expect(list.map { $0["shard"] as! String } == ["1/2", "2/2"])
        let shares = list.map { $0["incidents"] as! Int }
        #expect(shares.reduce(0, +) == (singleReport["coverage"] as! [String: Any])["replayed"] as? Int)
        for (index, share) in shares.enumerated() {
            let replayed = try DatabaseQueue(path: "\(fanout.workdir)/work/shards/shard-\(index + 1).sqlite").read {
                try Int.fetchOne($0, sql: "SELECT count(DISTINCT incidentId) FROM result")
            }
            #expect(replayed == share)
        }
    }

    /// The merge refuses what would not make the whole run, naming the store: a missing shard, one given twice,
    /// an unfinished one, a store with no shard run of this scenario.
    @Test func mergeRefusesAMissingDuplicateUnfinishedOrForeignShard() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let scenario = Repository.path("scenarios/k8s-week-pipeline.yaml")
        for index in 1...3 {
            let shard = try BinaryRunner.run(
                [
                    "run", scenario, "--shard", "\(index)/3", "--db", temp.file("shard-\(index).sqlite"), "--reports",
                    temp.file("reports"),
                ])
            #expect(shard.status == 0, "\(shard.stderr)")
        }
        func merge(_ stores: [String]) throws -> BinaryRunner.Result {
            try BinaryRunner.run(
                ["merge", scenario] + stores.map { temp.file($0) }
                    + ["--db", temp.file("merged-\(UUID().uuidString).sqlite"), "--reports", temp.file("reports")])
        }
        let missing = try merge(["shard-1.sqlite", "shard-3.sqlite"])
        #expect(missing.status == 2 && missing.stderr.contains("shards 2/3 of 3 are missing"), "\(missing.stderr)")

        try FileManager.default.copyItem(atPath: temp.file("shard-1.sqlite"), toPath: temp.file("copy.sqlite"))
        let twice = try merge(["shard-1.sqlite", "shard-2.sqlite", "shard-3.sqlite", "copy.sqlite"])
        #expect(twice.status == 2 && twice.stderr.contains("shard 1/3 is given twice"), "\(twice.stderr)")

        try DatabaseQueue(path: temp.file("copy.sqlite")).write {
            try $0.execute(sql: "UPDATE run SET status = 'running', finishedAt = NULL")
        }
        let unfinished = try merge(["copy.sqlite", "shard-2.sqlite", "shard-3.sqlite"])
        #expect(unfinished.status == 2, "\(unfinished.stderr)")
        #expect(unfinished.stderr.contains("copy.sqlite: shard 1/3"))
        #expect(unfinished.stderr.contains("is not complete (finish it with: triage-eval run --resume"))

        let whole = try BinaryRunner.run(
            ["run", scenario, "--db", temp.file("whole.sqlite"), "--reports", temp.file("reports")])
        #expect(whole.status == 0)
        let foreign = try merge(["whole.sqlite", "shard-2.sqlite", "shard-3.sqlite"])
        #expect(foreign.status == 2 && foreign.stderr.contains("whole.sqlite: no shard run of scenario"))

        let none = try merge(["absent.sqlite"])
        #expect(none.status == 2 && none.stderr.contains("absent.sqlite: no such store"), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.file("absent.sqlite")))

        let bad = try BinaryRunner.run(["run", scenario, "--shard", "4/3", "--db", temp.file("x.sqlite")])
        #expect(bad.status == 64 && bad.stderr.contains("4/3"))

        // The merge reads copies: the shards' files are left as they came, with no -wal or -shm beside them (an
        // input artifact's folder may be read-only).
        func shardFiles() throws -> [String: Data] {
            let names = try FileManager.default.contentsOfDirectory(atPath: temp.path).filter { $0.hasPrefix("shard-") }
            return try Dictionary(
                uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: URL(fileURLWithPath: temp.file($0)))) })
        }
        let before = try shardFiles()
        let whole3 = try merge(["shard-1.sqlite", "shard-2.sqlite", "shard-3.sqlite"])
        #expect(whole3.status == 0, "\(whole3.stderr)")
        #expect(try shardFiles() == before)
    }

    /// The template is a valid Argo Workflows 3.6.9 WorkflowTemplate — checked with every object closed to
    /// properties the schema does not define, so a misspelt field fails too — whose containers run only
    /// triage-eval's shards, run and merge, and which takes the API key from a Secret into the environment,
    /// never into an argument.
    @Test func theTemplateIsAValidWorkflowTemplateThatKeepsTheKeyOutOfItsArguments() throws {
        // The fixture is the shared schema's copy (Fixtures/argo/PROVENANCE.md), checked against it where it is.
        let shared = Repository.path("../shared/argo/workflow-schema-v3.6.9.json")
        if FileManager.default.fileExists(atPath: shared) {
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: shared))
                    == Data(
                        contentsOf: URL(
                            fileURLWithPath: Repository.path(
                                "Tests/TriageEvalCLITests/Fixtures/argo/workflow-schema-v3.6.9.json"))))
        }
        let output = try Python.run(
            """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            definitions = schema["definitions"]
            definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
            for definition in definitions.values():
                if isinstance(definition, dict) and "properties" in definition:
                    definition.setdefault("additionalProperties", False)
            ref = {"$ref": "#/definitions/io.argoproj.workflow.v1alpha1.WorkflowTemplate", "definitions": definitions}
            doc = yaml.safe_load(open(sys.argv[2]))
            jsonschema.validate(doc, ref)
            broken = json.loads(json.dumps(doc))
            broken["spec"]["templates"][2]["retryStrategyy"] = broken["spec"]["templates"][2].pop("retryStrategy")
            try:
                jsonschema.validate(broken, ref)
                print("misspelt field accepted")
            except jsonschema.ValidationError:
                pass
            for template in doc["spec"]["templates"]:
                container = template.get("container")
                if not container:
                    continue
                words = container["command"] + container["args"]
                print(template["name"], words[0], words[1],
                      any("key" in word.lower() for word in words),
                      [(e["name"], e["valueFrom"]["secretKeyRef"]["name"]) for e in container.get("env", [])])
            """, Repository.path("Tests/TriageEvalCLITests/Fixtures/argo/workflow-schema-v3.6.9.json"), Self.template)
        #expect(
            output.split(separator: "\n") == [
                "split triage-eval shards False []",
                "shard triage-eval run False [('{{workflow.parameters.api-key-env}}', "
                    + "'{{workflow.parameters.api-key-secret}}')]",
                "merge triage-eval merge False []",
            ], "\(output)")
    }
}

extension Thread {
    /// Reads a pipe to its end on another thread (so that neither of a child's pipes fills up and blocks it).
    fileprivate static func detachedRead(_ pipe: Pipe) -> PipeReader {
        let reader = PipeReader()
        let thread = Thread { reader.finish(pipe.fileHandleForReading.readDataToEndOfFile()) }
        thread.start()
        return reader
    }
}

/// Text read from a pipe on another thread.
private final class PipeReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    func finish(_ data: Data) {
        self.data = data
        done.signal()
    }

    /// Waits for the end of the pipe.
    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

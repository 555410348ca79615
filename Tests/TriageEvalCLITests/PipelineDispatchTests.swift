import Foundation
import Testing
import TriageEvalTestSupport

/// `pipeline lint` on the shipped pipelines and on bad input, the shipped manifests against Argo's JSON schema,
/// and the k8s-week scenarios' dispatch side by side, through the built binary.
@Suite(.serialized) struct PipelineDispatchTests {
    @Test func theSeedsDefectsAreFoundAndTheFixedSeedPasses() throws {
        let seed = try BinaryRunner.run(["pipeline", "lint", "scenarios/pipelines/seed"], in: Repository.path(""))
        #expect(seed.status == 1, "\(seed.stderr)")
        Snapshot.assert(
            seed.stdout, matches: Repository.path("Tests/TriageEvalCLITests/Fixtures/pipeline/lint-seed.txt"))
        // Every defect of section 8 of PRODUCTION-SEMANTICS.md, by rule.
        for rule in [
            "dependency-without-eventsource", "template-in-resource", "template-syntax", "not-a-decision-field",
            "param-not-passed", "template-without-workflowtemplate", "later-actions-dropped", "deadline-vs-timeout",
        ] {
            #expect(seed.stdout.contains("[\(rule)]"), "no \(rule) finding")
        }
        #expect(seed.stderr.contains("with catalog scenarios/pipelines/seed/catalog.yaml"))
        let fixed = try BinaryRunner.run(
            ["pipeline", "lint", "scenarios/pipelines/seed-fixed"], in: Repository.path(""))
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(!fixed.stdout.contains(": error:"))
        // The seed's catalog given explicitly changes nothing.
        let explicit = try BinaryRunner.run(
            ["pipeline", "lint", "--catalog", "corpora/k8s-week/catalog.yaml", "scenarios/pipelines/seed-fixed"],
            in: Repository.path(""))
        #expect(explicit.status == 0)
    }

    @Test func badInputIsASetUpErrorNamingTheFileAndLine() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let missing = try BinaryRunner.run(["pipeline", "lint", temp.file("nowhere")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nowhere: no such file or folder"), "\(missing.stderr)")
        let repeated = try temp.write(
            "sensor.yaml", "kind: Sensor\nmetadata: {name: s}\nspec:\n  triggers: []\n  triggers: []\n")
        let result = try BinaryRunner.run(["pipeline", "lint", repeated])
        #expect(result.status == 2)
        #expect(result.stderr.contains("sensor.yaml:5"), "\(result.stderr)")
        #expect(result.stderr.contains("repeated key 'triggers'"), "\(result.stderr)")
        let notAList = try temp.write("es.yaml", "kind: Sensor\nmetadata: {name: s}\nspec:\n  dependencies: 3\n")
        let list = try BinaryRunner.run(["pipeline", "lint", notAList])
        #expect(list.status == 2)
        #expect(list.stderr.contains("es.yaml:4"), "\(list.stderr)")
        #expect(list.stderr.contains("spec.dependencies"), "\(list.stderr)")
        let usage = try BinaryRunner.run(["pipeline", "lint"])
        #expect(usage.status == 64)
    }

    /// Every shipped manifest is a valid Argo Events 1.9 / Argo Workflows 3.6.9 resource, validated by Python's
    /// jsonschema against Argo Workflows 3.6.9's schema (`Fixtures/argo/`, which holds both projects' definitions).
    @Test func theShippedManifestsAreValidArgoResources() throws {
        let script = """
            import glob, json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            # The schema types Kubernetes' IntOrString as a string; the API server takes both (a Service's
            # targetPort: 12000, as the article writes it).
            schema["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
            prefix = {"WorkflowTemplate": "io.argoproj.workflow.v1alpha1.",
                      "Sensor": "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1.",
                      "EventSource": "github.com.argoproj.argo_events.pkg.apis.events.v1alpha1."}
            checked = 0
            for path in sorted(glob.glob(sys.argv[2] + "/*/*.yaml")):
                for doc in yaml.safe_load_all(open(path)):
                    kind = doc.get("kind")
                    if kind not in prefix:
                        continue
                    ref = {"$ref": "#/definitions/" + prefix[kind] + kind, "definitions": schema["definitions"]}
                    jsonschema.validate(doc, ref)
                    checked += 1
            print(checked)
            """
        let output = try Python.run(
            script, Repository.path("Tests/TriageEvalCLITests/Fixtures/argo/workflow-schema-v3.6.9.json"),
            Repository.path("scenarios/pipelines"))
        // seed: 1 EventSource, 1 WorkflowTemplate, 1 Sensor; seed-fixed: 2 EventSources, 4 WorkflowTemplates, 2 Sensors
        // (execute and approve).
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "11")
    }

    static func run(_ scenario: String, db: String, temp: TemporaryDirectory) throws -> (
        report: [String: Any], rows: [[String: Any]], markdown: String
    ) {
        let result = try BinaryRunner.run(
            ["run", Repository.path("scenarios/\(scenario)"), "--db", db, "--reports", temp.file("reports")])
        #expect(result.status == 0, "\(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try Data(contentsOf: URL(fileURLWithPath: temp.file("reports/\(runId)/report.json")))
        let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let export = try BinaryRunner.run(["export", runId, "--pipeline", "--format", "jsonl", "--db", db])
        #expect(export.status == 0, "\(export.stderr)")
        let rows = try export.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let markdown = try String(contentsOfFile: temp.file("reports/\(runId)/report.md"), encoding: .utf8)
        return (report, rows, markdown)
    }

    /// The week through the seed's Sensor and through the fixed one, on the same replies: the report's counts are
    /// the export's, and each submitted Workflow is checked against the catalog by hand-written rules.
    @Test func theWeeksExecutesThroughBothPipelines() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("store.db")
        let templates = [
            "restart_pods": ("restart-pods-tpl", ["namespace", "selector"]),
            "scale_up": ("scale-deployment-tpl", ["namespace", "deployment", "replicas"]),
            "rollback_release": ("rollback-release-tpl", ["namespace", "release"]),
            "clear_redis_keys": ("clear-redis-keys-tpl", ["cluster", "pattern"]),
        ]
        var submitted: [String: Int] = [:]
        for scenario in ["k8s-week-seed.yaml", "demo.yaml"] {
            let (report, rows, markdown) = try Self.run(scenario, db: db, temp: temp)
            // What a user reads: the Dispatch part of the Pipeline section.
            let part = try #require(markdown.range(of: "### Dispatch"))
            let end = markdown[part.upperBound...].range(of: "\n## ")?.lowerBound ?? markdown.endIndex
            Snapshot.assert(
                String(markdown[part.lowerBound..<end]),
                matches: Repository.path(
                    "Tests/TriageEvalCLITests/Fixtures/pipeline/dispatch-\(scenario.dropLast(5)).md"))
            let pipeline = report["pipeline"] as! [String: Any]
            let dispatch = pipeline["dispatch"] as! [String: Any]
            let executes = rows.filter {
                $0["production_route"] as? String == "execute" && $0["planned"] as? Bool == true
            }
            #expect(dispatch["executes"] as? Int == executes.count)
            // Every planned message has a dispatch; only executes are dispatched.
            for row in rows where row["planned"] as? Bool == true {
                let isExecute = row["production_route"] as? String == "execute"
                #expect((row["dispatch"] as? String == "not_routed") == !isExecute, "\(row)")
            }
            var byStatus: [String: Int] = [:]
            for row in executes { byStatus[row["dispatch"] as! String, default: 0] += 1 }
            let reported = (dispatch["byStatus"] as! [String: Int]).filter { $0.value > 0 }
            #expect(reported == byStatus)
            for row in executes where row["dispatch"] as? String == "submitted" {
                let actions = row["actions"] as! [String]
                let (template, params) = try #require(templates[actions[0]])
                #expect(row["workflow_template"] as? String == template)
                let arguments = row["workflow_arguments"] as! [String: String]
                #expect(Set(arguments.keys) == Set(params + ["incident_id"]))
                #expect(arguments["incident_id"] == row["decision_incident_id"] as? String)
                #expect(row["dropped_actions"] as? Int == actions.count - 1)
            }
            submitted[scenario] = byStatus["submitted"] ?? 0
            if scenario == "k8s-week-seed.yaml" {
                // The seed's dependency matches no EventSource: nothing is ever submitted.
                #expect(byStatus == ["no_dependency": executes.count])
            }
        }
        #expect(submitted["demo.yaml"]! > 0)
    }
}

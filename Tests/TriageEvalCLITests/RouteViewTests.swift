import Foundation
import Testing
import TriageEvalTestSupport

/// Production's route beside the scenario's: what a run with the approval gate says production's own router would
/// have done must be what a run without the gate measures, reply for reply.
@Suite(.serialized) struct RouteViewTests {
    static func run(_ temp: TemporaryDirectory, name: String, gate: Bool, extra: String = "") throws -> (
        status: Int32, stderr: String, report: [String: Any]
    ) {
        var scenario = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), encoding: .utf8)
        scenario =
            scenario.replacingOccurrences(of: "../../../", with: Repository.path("") + "/")
            .replacingOccurrences(of: "name: handwritten", with: "name: \(name)")
            .replacingOccurrences(of: "approval_gate: true", with: "approval_gate: \(gate)") + extra
        try scenario.write(toFile: temp.file("\(name).yaml"), atomically: true, encoding: .utf8)
        let result = try BinaryRunner.run(
            ["run", temp.file("\(name).yaml"), "--db", temp.file("s.sqlite"), "--reports", temp.file("r")])
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temp.file("r/\(runId)/report.json")))) as! [String: Any]
        return (result.status, result.stderr, report)
    }

    @Test func productionsRouteInAGatedRunIsWhatARunWithoutTheGateMeasures() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let gated = try Self.run(temp, name: "gated", gate: true).report
        let plain = try Self.run(temp, name: "plain", gate: false).report
        let production = gated["productionRoute"] as! [String: Any]
        let final = gated["finalRoute"] as! [String: Any]
        #expect(production["policies"] as? [String] == [] && final["policies"] as? [String] == ["approval_gate"])
        // The gate changes something here, or the test proves nothing.
        #expect((gated["routes"] as! [String: Int]) != (plain["routes"] as! [String: Int]))
        #expect(production["routes"] as! [String: Int] == plain["routes"] as! [String: Int])
        #expect(
            production["routeConfusion"] as! [String: [String: Int]]
                == plain["routeConfusion"] as! [String: [String: Int]])
        let derived = production["measures"] as! [String: [String: Any]]
        let measured = plain["measures"] as! [String: [String: Any]]
        for key in ["decision_accuracy", "route_accuracy", "act_recall", "automation_rate", "unsafe_executions"] {
            for field in ["count", "denominator"] {
                #expect(derived[key]![field] as? Int == measured[key]![field] as? Int, "\(key).\(field)")
            }
            // The same per-incident counts, the same draws: the same cluster interval.
            #expect(derived[key]!["lower"] as? Double == measured[key]!["lower"] as? Double, "\(key).lower")
        }
        #expect(final["measures"] as! NSDictionary == gated["measures"] as! NSDictionary)
        // Production's threshold sweep is the ungated run's.
        let derivedSweep = production["thresholdSweep"] as! [String: Any]
        let measuredSweep = plain["thresholdSweep"] as! [String: Any]
        #expect(derivedSweep["rows"] as! NSArray == measuredSweep["rows"] as! NSArray)
        #expect(derivedSweep["current"] as! NSDictionary == measuredSweep["current"] as! NSDictionary)
        // The side-by-side table names both, production's first.
        let runId = (gated["run"] as! [String: Any])["id"] as! String
        let markdown = try String(contentsOfFile: temp.file("r/\(runId)/report.md"), encoding: .utf8)
        #expect(markdown.contains("| Measure | Production's route (the seed's code) | With the approval gate |"))
        let executes = (production["routes"] as! [String: Int])["execute"]!
        let gatedExecutes = (gated["routes"] as! [String: Int])["execute"]!
        #expect(markdown.contains("| Routed to execute | \(executes) | \(gatedExecutes) |"))
    }

    @Test func gatesReadTheRouteTheScenarioNames() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let first = try Self.run(temp, name: "probe", gate: true).report
        let finalUnsafe =
            ((first["finalRoute"] as! [String: Any])["measures"] as! [String: [String: Any]])[
                "unsafe_executions"]!["count"] as! Int
        let productionUnsafe =
            ((first["productionRoute"] as! [String: Any])["measures"] as! [String: [String: Any]])[
                "unsafe_executions"]!["count"] as! Int
        #expect(productionUnsafe > finalUnsafe, "the gate holds an unsafe execution in the fixture")
        let final = try Self.run(
            temp, name: "final", gate: true, extra: "gates: {max_unsafe_executions: \(finalUnsafe)}\n")
        #expect(final.status == 0, "\(final.stderr)")
        #expect(final.stderr.contains("gate max_unsafe_executions: pass"))
        let production = try Self.run(
            temp, name: "production", gate: true,
            extra: "gates: {max_unsafe_executions: \(finalUnsafe), route: production}\n")
        #expect(production.status == 1, "\(production.stderr)")
        let gate = (production.report["gates"] as! [[String: Any]]).first {
            $0["name"] as? String == "max_unsafe_executions"
        }!
        #expect(gate["value"] as? String == String(productionUnsafe))
        #expect((gate["detail"] as! String).hasSuffix("(production's route)"))
    }
}

import Testing
import TriageEvalCore

@Suite struct CatalogLintTests {
    @Test func theSeedCatalogPasses() throws {
        #expect(try CatalogLint().lint(path: Fixtures.path("parity/prompt/seed-actions.yaml")).isEmpty)
        #expect(try CatalogLint().lint(path: Fixtures.path("parity/prompt/seed-actions.catalog.json")).isEmpty)
    }

    @Test func brokenYAMLFindingsNameTheirLines() throws {
        let path = Fixtures.path("catalogs/broken.yaml")
        let findings = try CatalogLint().lint(path: path).map { "\($0.line): \($0.message)" }
        #expect(
            findings == [
                "2: unknown catalog key 'owner' (allowed: actions, version)",
                "7: action 'restart_pods': destructive (blast radius 'namespace') but does not require approval",
                "8: action 'restart_pods': duplicate param 'namespace'",
                "9: action 'restart_pods': runbook is not an http(s) URL",
                "11: duplicate action name 'restart_pods' (first at line 4)",
                "11: action 'restart_pods': no template (the Sensor cannot start a workflow)",
                "11: action 'restart_pods': no runbook URL (every action has one)",
                "14: action 'restart_pods': constraint 'max_replicas' needs a 'replicas' param",
                "16: action 'restart_pods': timeout is not a duration such as 5m or 1h30m",
                "17: action 'restart_pods': unknown key 'colour'",
                "18: action 'drain_node': destructive (destructive: true) but does not require approval",
            ])
        #expect(
            try CatalogLint().lint(path: path).first?.description
                == "\(path):2: error: unknown catalog key 'owner' (allowed: actions, version)")
    }

    @Test func brokenJSONFindingsNameTheirLines() throws {
        let findings = try CatalogLint().lint(path: Fixtures.path("catalogs/broken.json")).map {
            "\($0.line): \($0.message)"
        }
        #expect(
            findings == [
                "4: action 'scale_up': no timeout (every action has one)",
                "4: action 'scale_up': destructive (blast radius 'cluster') but does not require approval",
                "9: action 'scale_up': max_replicas must be a non-negative integer",
                "9: action 'scale_up': unknown constraint 'surge'",
            ])
    }

    @Test func destructiveBlastRadiiAreConfigurable() throws {
        let lint = CatalogLint(destructiveBlastRadii: ["deployment"])
        let findings = try lint.lint(path: Fixtures.path("parity/prompt/seed-actions.yaml")).map(\.message)
        #expect(
            findings == ["action 'scale_up': destructive (blast radius 'deployment') but does not require approval"])
    }
}

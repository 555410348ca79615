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
            return try LabelFile.load(path: path, catalog: catalog(), knownIncidents: incidents)
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
                ActionCall(name: "scale_up", params: ["namespace": "shop", "deployment": "checkout", "replicas": "6"])
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
                message: "unknown key 'colour' (allowed: actions, expect, forbidden, note)")
        ) {
            try Self.load("labels:\n  inc-1:\n    colour: red\n")
        }
    }
}

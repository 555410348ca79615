import Foundation
import Testing
import TriageEvalTestSupport

/// `decision check`, `prompt` and `catalog lint` through the built binary, against production's golden files.
@Suite struct ParityCommandTests {
    static let parity = Repository.path("Tests/TriageEvalCoreTests/Fixtures/parity")

    @Test func decisionCheckReproducesEveryVector() throws {
        let vectors = try String(contentsOfFile: Self.parity + "/decision-vectors.jsonl", encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        // The vector lines themselves are the input: `decision check` reads "id" and "text" and ignores the rest.
        let result = try BinaryRunner.run([
            "decision", "check", "--catalog", Self.parity + "/prompt/seed-actions.yaml",
            Self.parity + "/decision-vectors.jsonl",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == vectors.count)
        for (vector, line) in zip(vectors, lines) {
            let output = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let id = vector["id"] as! String
            #expect(output["id"] as? String == id)
            for key in ["outcome", "errors", "decision", "route"] {
                #expect(NSDictionary(dictionary: [key: output[key]!]).isEqual(to: [key: vector[key]!]), "\(id) \(key)")
            }
            #expect(output["failure_class"] is String)
        }
    }

    @Test func decisionCheckExitCodes() throws {
        let catalog = Self.parity + "/prompt/seed-actions.yaml"
        let gated = try BinaryRunner.run(
            ["decision", "check", "--catalog", catalog, "--approval-gate", "--strict-policy"],
            stdin: Data(
                #"{"id":"x","text":"{\"incident_id\":\"i\",\"actions\":[{\"name\":\"rollback_release\",\"params\":{\"namespace\":\"shop\"},\"rationale\":\"r\"}],\"confidence\":0.9,\"needs_human\":false}"}"#
                    .utf8))
        #expect(gated.status == 0)
        #expect(gated.stdout.contains(#""route": "approve""#))
        #expect(gated.stdout.contains(#""kind": "missing_param""#))
        let bad = try BinaryRunner.run(["decision", "check", "--catalog", catalog], stdin: Data("{\"id\":1}\n".utf8))
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("<stdin>:1: expected an object with a string \"text\""))
    }

    @Test func promptCommandsPrintProductionBytes() throws {
        let system = try BinaryRunner.run(["prompt", "system", "--catalog", Self.parity + "/prompt/seed-actions.yaml"])
        #expect(system.status == 0)
        #expect(
            system.stdout
                == (try String(contentsOfFile: Self.parity + "/prompt/seed-actions.system.txt", encoding: .utf8)))
        let goldens = try String(contentsOfFile: Self.parity + "/prompt/user-message-golden.jsonl", encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        for golden in goldens.prefix(5) + goldens.suffix(5) {
            let user = try BinaryRunner.run(["prompt", "user"], stdin: Data((golden["text"] as! String).utf8))
            #expect(user.stdout == golden["python_json_dumps"] as! String, "\(golden["id"]!)")
        }
        let notJSON = try BinaryRunner.run(["prompt", "user"], stdin: Data("{nope".utf8))
        #expect(notJSON.status == 2, "a bad input file is a set-up error")
    }

    @Test func promptIncidentUsesTheStoredEvent() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("s.sqlite")
        _ = try BinaryRunner.run(["ingest", Repository.path("corpora/handwritten/deliveries"), "--db", db])
        let user = try BinaryRunner.run(["prompt", "incident", "inc-4fcc88a1185c1f17", "--db", db])
        #expect(user.status == 0)
        #expect(
            user.stdout.hasPrefix(
                #"{"incident_id": "inc-4fcc88a1185c1f17", "receiver": "sre-webhook", "status": "firing""#))
        #expect(!user.stdout.hasSuffix("\n"))
        let both = try BinaryRunner.run([
            "prompt", "incident", "inc-4fcc88a1185c1f17", "--db", db, "--part", "both", "--catalog",
            Self.parity + "/prompt/seed-actions.yaml",
        ])
        let object = try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as! [String: String]
        #expect(object["user"] == user.stdout)
        #expect(object["system"]?.hasPrefix("You are a remediation planner.") == true)
        #expect(try BinaryRunner.run(["prompt", "incident", "inc-nope", "--db", db]).status == 2)
        #expect(try BinaryRunner.run(["prompt", "incident", "inc-nope", "--part", "system"]).status == 64)
    }

    @Test func catalogLintExitCodes() throws {
        let seed = try BinaryRunner.run(["catalog", "lint", Repository.path("corpora/handwritten/catalog.yaml")])
        #expect(seed.status == 0)
        #expect(seed.stdout.isEmpty)
        let broken = Repository.path("Tests/TriageEvalCoreTests/Fixtures/catalogs/broken.yaml")
        let findings = try BinaryRunner.run(["catalog", "lint", broken])
        #expect(findings.status == 1)
        #expect(findings.stdout.split(separator: "\n").count == 11)
        #expect(findings.stdout.hasPrefix("\(broken):2: error: unknown catalog key 'owner'"))
        #expect(try BinaryRunner.run(["catalog", "lint", "/nonexistent.yaml"]).status == 2)
    }
}

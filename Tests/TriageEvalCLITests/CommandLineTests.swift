import Foundation
import GRDB
import Testing
import TriageEvalTestSupport

/// Exit codes and error messages of the built binary.
@Suite struct CommandLineTests {
    static let valid = """
        {"receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{},\
        "startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f1"}],\
        "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"x","version":"4","groupKey":"g",\
        "truncatedAlerts":0}
        """

    @Test func ingestJSONAccountsForEveryUnitFromStandardInput() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let input = [
            Self.valid, "", Self.valid, " \t", String(Self.valid.prefix(30)), "nope",
            Self.valid.replacingOccurrences(of: "\"4\"", with: "\"3\""),
        ]
        .joined(separator: "\n")
        let result = try BinaryRunner.run(
            ["ingest", "-", "--json", "--db", temp.file("s.sqlite")], stdin: Data(input.utf8))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let summary = object.compactMapValues { $0 as? Int }
        #expect(summary["read"] == 5)
        #expect(summary["stored"] == 1)
        #expect(summary["duplicates"] == 1)
        #expect(summary["quarantined"] == 3)
        #expect(summary["blank"] == 2)
        #expect(summary["incidents"] == 1)
        #expect(summary["escapedNames"] == 0)
        #expect((object["brokenFiles"] as? [Any])?.isEmpty == true)
        #expect(result.stdout.split(separator: "\n").count == 1)
        let strict = try BinaryRunner.run(
            ["ingest", "-", "--strict", "--db", temp.file("t.sqlite")], stdin: Data(input.utf8))
        #expect(strict.status == 1)
    }

    @Test func malformedCommandLinesExit64() throws {
        #expect(try BinaryRunner.run(["ingest"]).status == 64)
        #expect(try BinaryRunner.run(["run", "a.yaml", "--no-such-flag"]).status == 64)
        #expect(try BinaryRunner.run(["ingest", "x", "--max-body-bytes", "0"]).status == 64)
        // NaN compares false with every confidence: it would execute everything.
        for threshold in ["nan", "1.5", "-0.1", "inf"] {
            let check = try BinaryRunner.run(["decision", "check", "--catalog", "c.yaml", "--threshold=\(threshold)"])
            #expect(check.status == 64, "--threshold \(threshold)")
            #expect(check.stderr.contains("--threshold must be a number between 0 and 1"))
        }
    }

    @Test func setUpErrorsExit2AndNameTheProblem() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let missing = try BinaryRunner.run(["ingest", temp.file("absent.json"), "--db", temp.file("s.sqlite")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("absent.json: no such file or directory"))

        let scenario = try temp.write(
            "scenarios/bad.yaml",
            "name: bad\ncorpus: demo\ncatalog: x.yaml\nmodel: {provider: anthropic, name: m}\ncolour: blue\n")
        let bad = try BinaryRunner.run(["run", scenario, "--db", temp.file("s.sqlite")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yaml:5: colour: unknown key 'colour'"), "\(bad.stderr)")
    }

    @Test func replayMissExits2AndListsWhatIsMissing() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let scenario = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), encoding: .utf8
        )
        .replacingOccurrences(of: "samples: 2", with: "samples: 3")
        let path = try temp.write(
            "scenarios/three.yaml",
            scenario.replacingOccurrences(of: "../../../", with: Repository.path("") + "/"))
        let result = try BinaryRunner.run(["run", path, "--db", temp.file("s.sqlite"), "--reports", temp.file("r")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("16 of 48 samples have no cached reply"), "\(result.stderr)")
        #expect(result.stderr.contains("sample 2"))
    }

    /// A file that is not JSON is a bad input file — a set-up error (2), not a malformed command line (64).
    @Test func promptUserOnAFileThatIsNotJSONExits2() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let file = try temp.write("event.json", "not json\n")
        let result = try BinaryRunner.run(["prompt", "user", file])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("\(file): not JSON"), "\(result.stderr)")
        let fromStandardInput = try BinaryRunner.run(["prompt", "user"], stdin: Data("{".utf8))
        #expect(fromStandardInput.status == 2)
        #expect(fromStandardInput.stderr.contains("standard input: not JSON"))
    }

    /// A constraint failure is triage-eval's bug, not the user's set-up: it says so and exits 70. A trigger added
    /// to the store refuses every new run, as a broken invariant would.
    @Test func anInternalErrorSaysItIsOneAndExits70() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let database = temp.file("s.sqlite")
        let ingest = try BinaryRunner.run(["ingest", "-", "--db", database], stdin: Data(Self.valid.utf8))
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let queue = try DatabaseQueue(path: database)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_runs BEFORE INSERT ON run
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """)
        }
        let scenario = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), encoding: .utf8
        )
        let path = try temp.write(
            "scenarios/handwritten.yaml",
            scenario.replacingOccurrences(of: "../../../", with: Repository.path("") + "/"))
        let result = try BinaryRunner.run(["run", path, "--db", database, "--reports", temp.file("r")])
        #expect(result.status == 70, "\(result.stderr)")
        #expect(result.stderr.contains("internal error:"), "\(result.stderr)")
        #expect(result.stderr.contains("refused by the test"))
        #expect(result.stderr.contains("This is a bug in triage-eval"))
        #expect(!result.stderr.contains("\nerror:"))
    }
}

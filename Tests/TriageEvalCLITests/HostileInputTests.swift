import Foundation
import Testing
import TriageEvalTestSupport

/// The built binary against hostile set-up input (issue 17): an alias bomb in a scenario, and a signal while a
/// large corpus loads. The inputs are generated here.
@Suite struct HostileInputTests {
    /// A scenario, catalog and labels beside a corpus whose deliveries file holds `junkLines` lines that are not
    /// JSON (each one quarantined, so loading takes a while).
    static func setUp(_ temp: TemporaryDirectory, junkLines: Int, params: String = "{}") throws -> String {
        let corpus = temp.file("corpora/big")
        try FileManager.default.createDirectory(
            atPath: corpus + "/deliveries", withIntermediateDirectories: true)
        for name in ["labels.yaml", "catalog.yaml"] {
            try FileManager.default.copyItem(
                atPath: Repository.path("corpora/handwritten/\(name)"), toPath: corpus + "/" + name)
        }
        var junk = ""
        junk.reserveCapacity(junkLines * 9)
        for index in 0..<junkLines { junk += "x\(index)\n" }
        try junk.write(toFile: corpus + "/deliveries/junk.jsonl", atomically: false, encoding: .utf8)
        return try temp.write(
            "scenarios/s.yaml",
            """
            name: hostile
            corpus: big
            catalog: ../corpora/big/catalog.yaml
            model:
              provider: anthropic
              name: m
              params: \(params)
            cache: replay

            """)
    }

    /// Row 8: a 609-byte alias bomb in `model.params` is refused at once, naming the file and line (it was
    /// accepted after 46 s and 4 GB).
    @Test func anAliasBombInAScenarioIsASetUpErrorNamingTheLine() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let bomb = """
            &a0 [&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], \
            &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], \
            &f [*e,*e,*e,*e,*e,*e,*e,*e,*e], &g [*f,*f,*f,*f,*f,*f,*f,*f,*f], &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]]
            """
        let scenario = try Self.setUp(temp, junkLines: 1, params: bomb)
        let result = try BinaryRunner.run(["run", scenario, "--db", temp.file("s.sqlite")])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("s.yaml:7: more than 1000000 nodes once its aliases are expanded"),
            "\(result.stderr)")
    }

    /// A signal while the corpus loads ends the run at once (130): nothing has been replayed, so there is nothing
    /// to finish. It used to be taken as "stop after the calls in flight" and ignored until loading was done.
    @Test func aSignalWhileLoadingExitsAtOnce() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let scenario = try Self.setUp(temp, junkLines: 3_000_000)
        let run = try BackgroundBinary(["run", scenario, "--db", temp.file("s.sqlite")])
        _ = try run.waitForLine(containing: "scenario hostile:")
        usleep(300_000)
        run.signal(SIGTERM)
        #expect(run.wait(timeout: 60) == 130)
        #expect(run.stderr.contains("interrupted while loading; nothing was replayed"), "\(run.stderr)")
    }
}

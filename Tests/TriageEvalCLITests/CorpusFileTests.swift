import Foundation
import Testing
import TriageEvalTestSupport

/// How `run` recognises the corpus files it has loaded: by content (SHA-256), computed again only when a file's
/// size, modification time or inode changed (`corpusFileStat`), and never remembered for a file modified in the
/// two seconds before it was hashed.
@Suite struct CorpusFileTests {
    /// The store's `corpusFileStat` rows: path → SHA-256.
    static func remembered(_ database: String) throws -> [String: String] {
        let rows = try Python.run(
            """
            import json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            print(json.dumps(dict(db.execute("SELECT path, sha256 FROM corpusFileStat").fetchall())))
            """, database)
        return try JSONSerialization.jsonObject(with: Data(rows.utf8)) as! [String: String]
    }

    static func sha256(_ path: String) throws -> String {
        try Python.run(
            "import hashlib, sys\nprint(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())", path
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sets a file's modification time an hour back.
    static func age(_ path: String) throws {
        _ = try Python.run("import os, sys, time\nt = time.time() - 3600\nos.utime(sys.argv[1], (t, t))", path)
    }

    @Test func aFileIsHashedAgainOnlyWhenItChanged() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (scenario, _, _) = try PipelineReplayTests.setUp(temp)
        let deliveries = temp.file("corpora/timeline/deliveries/timeline.jsonl")
        let replies = temp.file("corpora/timeline/replies-timeline.jsonl")
        let database = temp.file("s.sqlite")

        // Files written just now are hashed and not remembered (a write in the same tick would go unseen).
        let (fresh, _) = try PipelineReplayTests.run(temp, scenario)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(try Self.remembered(database).isEmpty)

        // Files an hour old are remembered under their absolute paths with their content's SHA-256.
        try Self.age(deliveries)
        try Self.age(replies)
        let (second, _) = try PipelineReplayTests.run(temp, scenario)
        #expect(second.status == 0, "\(second.stderr)")
        let remembered = try Self.remembered(database)
        let real = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        #expect(remembered == [real(deliveries): try Self.sha256(deliveries), real(replies): try Self.sha256(replies)])

        // A changed file is hashed again and loaded: line 1 sent once more, 190 s in, is an eighth message.
        let first = try String(contentsOfFile: deliveries, encoding: .utf8).split(separator: "\n")[0]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: deliveries))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((first + "\n").utf8))
        try handle.close()
        let sidecar = temp.file("corpora/timeline/deliveries/timeline.headers.jsonl")
        let times = try String(contentsOfFile: sidecar, encoding: .utf8)
        try (times + "{\"seq\": 8, \"recv_unix\": 1190}\n").write(toFile: sidecar, atomically: true, encoding: .utf8)
        try Self.age(deliveries)
        let (third, runId) = try PipelineReplayTests.run(temp, scenario)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try PipelineReplayTests.pipelineSection(temp, runId)["messages"] as? Int == 8)
        #expect(try Self.remembered(database)[real(deliveries)] == Self.sha256(deliveries))
    }
}

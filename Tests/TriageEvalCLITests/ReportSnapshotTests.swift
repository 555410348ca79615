import Foundation
import Testing
import TriageEvalTestSupport

/// Every file `run` writes, from a fixed fixture run (the hand-written replies, the run's clock pinned with
/// SOURCE_DATE_EPOCH so its id and times are fixed), against golden files in `Fixtures/snapshots/run-handwritten/`;
/// and `reports/example/` against what `scripts/example-reports` makes of the demo now.
@Suite struct ReportSnapshotTests {
    static let reportFiles = ["junit.xml", "report.html", "report.json", "report.md", "summary.md"]
    /// 2026-11-29T10:15:00Z.
    static let epoch = "1795947300"

    /// Runs the fixture scenario in a scratch folder laid out like the repository, so that every path in the
    /// reports is relative and the same on every machine; returns the reports' folder.
    static func fixtureRun(_ temp: TemporaryDirectory) throws -> String {
        try FileManager.default.createSymbolicLink(
            atPath: temp.file("corpora"), withDestinationPath: Repository.path("corpora"))
        try FileManager.default.createDirectory(atPath: temp.file("scenarios"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: temp.file("scenarios/templates"), withDestinationPath: Repository.path("scenarios/templates"))
        let fixture = try String(
            contentsOfFile: Repository.path("Tests/TriageEvalCLITests/Fixtures/handwritten.yaml"), encoding: .utf8)
        try temp.write("scenarios/handwritten.yaml", fixture.replacingOccurrences(of: "../../../", with: "../"))
        let result = try BinaryRunner.run(
            ["run", "scenarios/handwritten.yaml", "--db", "store.sqlite", "--reports", "reports"], in: temp.path,
            environment: ["SOURCE_DATE_EPOCH": epoch])
        #expect(result.status == 0, "\(result.stderr)")
        let runId = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(runId == "handwritten-20261129T101500Z")
        return temp.file("reports/\(runId)")
    }

    @Test(arguments: reportFiles)
    func everyFileRunWritesMatchesItsGolden(_ name: String) throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try Self.fixtureRun(temp)
        let text = try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)
        Snapshot.assert(
            text, matches: Repository.path("Tests/TriageEvalCLITests/Fixtures/snapshots/run-handwritten/\(name)"))
    }

    @Test func runWritesExactlyTheReportFiles() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try Self.fixtureRun(temp)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == Self.reportFiles)
    }

    /// The checked-in example is what the script makes of the demo today, byte for byte.
    @Test func theExampleReportsAreCurrent() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Repository.path("scripts/example-reports"), temp.file("example")]
        var environment = ProcessInfo.processInfo.environment
        environment["TRIAGE_EVAL_BIN"] = BinaryRunner.binaryPath
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr)")
        for name in Self.reportFiles {
            let current = try String(contentsOfFile: temp.file("example/\(name)"), encoding: .utf8)
            let shipped = try String(contentsOfFile: Repository.path("reports/example/\(name)"), encoding: .utf8)
            let difference = Snapshot.firstDifference(expected: shipped, actual: current)
            #expect(
                current == shipped,
                "reports/example/\(name) is out of date (run scripts/example-reports): \(difference)")
        }
    }
}

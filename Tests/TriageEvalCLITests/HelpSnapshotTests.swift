import Foundation
import Testing
import TriageEvalTestSupport

/// Every `--help` text, as users read it, against its golden file in `Fixtures/snapshots/help/`.
@Suite struct HelpSnapshotTests {
    static let commands: [[String]] = [
        [], ["ingest"], ["capture"], ["run"], ["shards"], ["merge"], ["report"], ["compare"], ["export"], ["cache"],
        ["cache", "import"],
        ["cache", "export"], ["decision"], ["decision", "check"], ["prompt"],
        ["prompt", "system"], ["prompt", "user"], ["prompt", "incident"], ["catalog"], ["catalog", "lint"],
        ["pipeline"], ["pipeline", "lint"], ["audit"], ["audit", "verify"], ["audit", "export"],
    ]

    static func snapshotPath(_ command: [String]) -> String {
        let name = command.isEmpty ? "triage-eval" : command.joined(separator: "-")
        return Repository.path("Tests/TriageEvalCLITests/Fixtures/snapshots/help/\(name).txt")
    }

    @Test(arguments: commands)
    func helpMatchesItsGolden(_ command: [String]) throws {
        let result = try BinaryRunner.run(command + ["--help"], environment: ["COLUMNS": "100"])
        #expect(result.status == 0, "\(result.stderr)")
        Snapshot.assert(result.stdout, matches: Self.snapshotPath(command))
    }

    /// A line continuation written `\\` in a multi-line string literal printed a backslash at each line's end.
    @Test func compareHelpHasNoStrayBackslashes() throws {
        let result = try BinaryRunner.run(["compare", "--help"], environment: ["COLUMNS": "100"])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("\\"), "\(result.stdout)")
        #expect(result.stdout.contains("difference with a paired bootstrap interval"))
    }
}

import Foundation
import Testing

/// Golden files for what users read, in the spirit of swift-argument-parser's `assertSnapshot`: the text is
/// compared with a file checked in beside the tests; the file is written instead when it is missing or when
/// `TRIAGE_EVAL_RECORD_SNAPSHOTS=1` is set (then the test fails, so that a recording is never mistaken for a
/// pass — look at the diff, commit the file, run again).
package enum Snapshot {
    /// The variable that asks every snapshot to be recorded anew.
    package static let recordVariable = "TRIAGE_EVAL_RECORD_SNAPSHOTS"

    /// Compares `actual` with the golden file at `path` (recording it when missing or asked to).
    package static func assert(
        _ actual: String, matches path: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let record = ProcessInfo.processInfo.environment[recordVariable] == "1"
        let existing = try? String(contentsOfFile: path, encoding: .utf8)
        if record || existing == nil {
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: URL(fileURLWithPath: path))
                Issue.record(
                    "recorded the snapshot \(path); check it and run the test again", sourceLocation: sourceLocation)
            } catch {
                Issue.record("cannot record the snapshot \(path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let existing, existing != actual else { return }
        Issue.record(
            """
            \(path) differs from the output (set \(recordVariable)=1 to record it anew):
            \(firstDifference(expected: existing, actual: actual))
            """,
            sourceLocation: sourceLocation)
    }

    /// The first line that differs, with its number, both sides shown.
    package static func firstDifference(expected: String, actual: String) -> String {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let left = index < expectedLines.count ? String(expectedLines[index]) : "<end of file>"
            let right = index < actualLines.count ? String(actualLines[index]) : "<end of output>"
            if left != right { return "line \(index + 1):\n  golden: \(left)\n  actual: \(right)" }
        }
        return "(they differ only in line endings)"
    }
}

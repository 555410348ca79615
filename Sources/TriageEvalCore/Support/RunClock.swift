import Foundation

/// The clock a run's times come from: its id (`<scenario>-<UTC time>`), `startedAt` and `finishedAt` — the times
/// its reports show. The system clock, or a fixed time for reproducible reports (goldens, `reports/example/`).
package struct RunClock: Sendable {
    /// The time now.
    package let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// The system clock.
    package static let system = RunClock { Date() }

    /// Always `date`.
    package static func fixed(_ date: Date) -> RunClock { RunClock { date } }

    /// The reproducible-builds convention: with `SOURCE_DATE_EPOCH` set (Unix seconds), every run's times are that
    /// time; else the system clock.
    /// - Throws: ``ConfigError`` when the variable is not a whole number of seconds.
    package static func fromEnvironment(_ environment: [String: String]) throws -> RunClock {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return .system }
        guard let seconds = Int64(text), seconds >= 0 else {
            throw ConfigError(
                file: "environment", line: nil, keyPath: "SOURCE_DATE_EPOCH",
                message: "'\(text)' is not a whole number of seconds since 1970")
        }
        return .fixed(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

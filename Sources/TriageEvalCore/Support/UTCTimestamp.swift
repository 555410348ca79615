import Foundation

/// The store's timestamps: `2026-11-29T14:58:15Z`, as `ISO8601DateFormatter` writes them by default.
///
/// Formatted with `gmtime_r` rather than a new `ISO8601DateFormatter` per row, which builds an ICU formatter each
/// time (a sixth of a live run's CPU at a few thousand replies a second).
enum UTCTimestamp {
    /// The timestamp of `date` (now by default), to the second.
    static func string(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// The timestamp of `date` to the millisecond (`2026-11-29T14:58:15.216Z`), rounded to the nearest.
    static func milliseconds(_ date: Date) -> String {
        let total = (date.timeIntervalSince1970 * 1000).rounded()
        let whole = (total / 1000).rounded(.down)
        let millis = Int(total - whole * 1000)
        let text = string(Date(timeIntervalSince1970: whole))
        let padded = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return text.dropLast() + ".\(padded)Z"
    }
}

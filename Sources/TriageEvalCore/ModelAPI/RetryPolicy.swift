import Foundation

/// When and how long to wait before calling again.
///
/// Retried: HTTP 429, 408, 5xx (529 included), timeouts and connection errors — exponential backoff with full
/// jitter, at least `retry-after` when the server sends one, within a per-call attempt limit and a run-wide
/// budget. Never retried: a completed reply whose text is invalid (the seed: the second answer is usually no
/// better and doubles the cost) and other 4xx responses such as a context-length 400, which are results.
package struct RetryPolicy: Sendable {
    /// Attempts per call, the first included.
    package var maxAttempts: Int
    /// The first backoff, in seconds.
    package var baseDelay: Double
    /// The longest backoff, in seconds.
    package var maxDelay: Double

    package init(maxAttempts: Int, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Whether a status code is worth another attempt.
    package static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || (500...599).contains(status)
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential ceiling,
    /// raised to the server's `retry-after` when it gives one.
    package func delay(afterAttempt attempt: Int, retryAfter: String?, random: Double) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        let jittered = ceiling * random
        guard let retryAfter, let seconds = Self.seconds(retryAfter: retryAfter) else { return jittered }
        return max(jittered, min(seconds, 300))
    }

    /// `retry-after` as seconds: a number, or an HTTP date.
    static func seconds(retryAfter: String) -> Double? {
        let trimmed = retryAfter.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

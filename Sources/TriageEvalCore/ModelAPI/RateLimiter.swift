import Foundation

/// Client-side limits on requests and tokens per minute: two token buckets refilled continuously, each holding
/// at most one minute's allowance. A call reserves its estimated tokens before it is sent; the estimate is
/// corrected with the usage the reply reports.
package actor RateLimiter {
    private let requestsPerMinute: Double?
    private let tokensPerMinute: Double?
    private var requestCredit: Double
    private var tokenCredit: Double
    private var last: Date

    package init(requestsPerMinute: Double?, tokensPerMinute: Double?) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        requestCredit = requestsPerMinute ?? 0
        tokenCredit = tokensPerMinute ?? 0
        last = Date()
    }

    private func refill() {
        let now = Date()
        let elapsed = now.timeIntervalSince(last) / 60
        last = now
        if let requestsPerMinute { requestCredit = min(requestsPerMinute, requestCredit + elapsed * requestsPerMinute) }
        if let tokensPerMinute { tokenCredit = min(tokensPerMinute, tokenCredit + elapsed * tokensPerMinute) }
    }

    /// Waits until one request and `tokens` tokens are available, then takes them.
    package func acquire(tokens: Double) async throws {
        while true {
            refill()
            var wait = 0.0
            if let requestsPerMinute, requestCredit < 1 {
                wait = max(wait, (1 - requestCredit) / requestsPerMinute * 60)
            }
            if let tokensPerMinute {
                // A call larger than a minute's allowance waits for a full bucket, then goes.
                let needed = min(tokens, tokensPerMinute)
                if tokenCredit < needed { wait = max(wait, (needed - tokenCredit) / tokensPerMinute * 60) }
            }
            if wait <= 0 {
                if requestsPerMinute != nil { requestCredit -= 1 }
                if tokensPerMinute != nil { tokenCredit -= tokens }
                return
            }
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }

    /// Corrects a reservation once the real token count is known.
    package func settle(estimated: Double, actual: Double) {
        if tokensPerMinute != nil { tokenCredit += estimated - actual }
    }
}

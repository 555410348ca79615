import Foundation
import GRDB
import Synchronization

/// Counts a run keeps while calls are in flight, for progress lines.
final class RunCounters: Sendable {
    private struct Counts {
        var done = 0
        var cacheHits = 0
        var calls = 0
        var succeeded = 0
        var transportErrors = 0
        var connectionErrors = 0
        var retries = 0
        var inputTokens = 0
        var outputTokens = 0
    }

    private let counts = Mutex(Counts())
    private let retryBudget: Mutex<Int>
    private let inputPrice: Double?
    private let outputPrice: Double?

    init(retryBudget: Int, inputPrice: Double?, outputPrice: Double?) {
        self.retryBudget = Mutex(retryBudget)
        self.inputPrice = inputPrice
        self.outputPrice = outputPrice
    }

    /// Takes one retry from the run-wide budget; false when it is spent.
    func takeRetry() -> Bool {
        let granted = retryBudget.withLock { budget -> Bool in
            guard budget > 0 else { return false }
            budget -= 1
            return true
        }
        if granted { counts.withLock { $0.retries += 1 } }
        return granted
    }

    func cacheHit() {
        counts.withLock {
            $0.done += 1
            $0.cacheHits += 1
        }
    }

    func called(succeeded: Bool, connectionError: Bool, inputTokens: Int?, outputTokens: Int?) {
        counts.withLock {
            $0.done += 1
            $0.calls += 1
            if succeeded { $0.succeeded += 1 } else { $0.transportErrors += 1 }
            if connectionError { $0.connectionErrors += 1 }
            $0.inputTokens += inputTokens ?? 0
            $0.outputTokens += outputTokens ?? 0
        }
    }

    var done: Int { counts.withLock { $0.done } }
    var cacheHits: Int { counts.withLock { $0.cacheHits } }
    var calls: Int { counts.withLock { $0.calls } }
    var onlyConnectionErrors: Bool { counts.withLock { $0.calls > 0 && $0.connectionErrors == $0.calls } }

    /// The progress note: cache hits, calls, errors, tokens and cost.
    var note: String {
        counts.withLock { counts in
            var text = "cache hits \(counts.cacheHits), calls \(counts.calls), errors \(counts.transportErrors)"
            if counts.retries > 0 { text += ", retries \(counts.retries)" }
            if counts.inputTokens + counts.outputTokens > 0 {
                text += ", tokens \(counts.inputTokens)+\(counts.outputTokens)"
                if let inputPrice, let outputPrice {
                    let cost =
                        (Double(counts.inputTokens) * inputPrice + Double(counts.outputTokens) * outputPrice) / 1e6
                    text += String(format: ", $%.4f", cost)
                }
            }
            return text
        }
    }
}

extension Runner {
    /// Runs `body` holding the run's lease (``RunLease``), so that a second process replaying the same run is
    /// refused before it calls anything; the lease is released however `body` ends.
    func withLease<T>(runId: String, _ body: () async throws -> T) async throws -> T {
        let takeOver = takesOverOtherHostsLease
        try await store.queue.write { db in
            try RunLease.acquire(db, runId: runId, takeOverOtherHosts: takeOver)
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        try? await store.queue.write { db in try RunLease.release(db, runId: runId) }
        return try result.get()
    }

    /// Judges cached items at once, then calls the model for the rest, storing each result as it comes. The
    /// progress clock starts at `started`, when the cache lookup began. Called under ``withLease(runId:_:)``.
    func execute(
        runId: String,
        scenario: Scenario,
        planner: Planner,
        items: [WorkItem],
        cached: [CachedReply?],
        corpus: CorpusLoader.Summary,
        started: Date,
        expectedResults: Int,
        beforeComplete: () async throws -> Void = {}
    ) async throws -> Outcome {
        stop.arm()
        let catalog = planner.catalog
        let context = Context(
            runId: runId, scenario: scenario,
            judge: Judge(catalog: catalog, threshold: scenario.threshold, approvalGate: scenario.approvalGate))
        let progress = Progress(
            label: "run \(runId)", total: items.count, unit: "samples", style: progressStyle, started: started)
        let live = zip(items, cached).filter { $0.1 == nil }.map(\.0)
        let counters = RunCounters(
            retryBudget: scenario.retry.budget ?? max(20, live.count / 10),
            inputPrice: scenario.model.inputPricePerMillion, outputPrice: scenario.model.outputPricePerMillion)

        let results = ResultStore(store: store)
        let hits = zip(items, cached).compactMap { item, reply in reply.map { (item, $0) } }
        try await storeCached(hits, context: context, results: results) { count in
            for _ in 0..<count {
                counters.cacheHit()
                progress.advance { counters.note }
            }
        }
        if !live.isEmpty {
            try await callModel(live, context: context, results: results, counters: counters, progress: progress)
        }
        progress.finish(note: counters.note)
        if stop.isRequested && counters.done < items.count {
            throw RunError.interrupted(runId: runId, done: counters.done, total: items.count)
        }
        if counters.onlyConnectionErrors, let baseURL = scenario.model.baseURL {
            throw RunError.unreachable(url: baseURL, detail: "every call failed to connect (the run can be resumed)")
        }
        // The pipeline replay is written once its replies are in, before the run can be marked complete.
        try await beforeComplete()
        let stored = try await store.queue.read { db in
            try ResultRecord.count(db, runId: runId)
        }
        if stored == expectedResults {
            let finished = clock.now()
            try await store.queue.write { db in try RunRecord.markComplete(db, id: runId, at: finished) }
        }
        return Outcome(
            runId: runId, corpus: corpus, results: items.count { !$0.recordsOnly }, cacheHits: counters.cacheHits,
            calls: counters.calls)
    }

    /// Calls the model for every item, `concurrency` at a time, within the rate limits.
    private func callModel(
        _ items: [WorkItem],
        context: Context,
        results: ResultStore,
        counters: RunCounters,
        progress: Progress
    ) async throws {
        let scenario = context.scenario
        guard let baseURL = scenario.model.baseURL else { throw RunError.noBaseURL }
        let provider = scenario.model.provider
        var authorization: (String, String)? = nil
        var redactor = Redactor(secret: nil)
        if let variable = scenario.model.apiKeyEnv {
            guard let key = environment[variable], !key.isEmpty else {
                throw RunError.missingAPIKey(variable: variable)
            }
            authorization = provider.authorization(key: key)
            redactor = Redactor(secret: key)
        }
        let client = try self.client ?? CurlHTTPClient(connections: scenario.concurrency)
        // A shard keeps to its part of the limits (one API key's, shared by the shards) unless told otherwise.
        let limits = scenario.effectiveRateLimit
        let limiter = RateLimiter(requestsPerMinute: limits.requestsPerMinute, tokensPerMinute: limits.tokensPerMinute)
        let policy = RetryPolicy(maxAttempts: scenario.retry.maxAttempts)
        let call = LiveCall(
            results: results, context: context, provider: provider, baseURL: baseURL, authorization: authorization,
            redactor: redactor, client: client, limiter: limiter, policy: policy, counters: counters)
        let stop = self.stop
        // Child tasks never throw: a failure that must end the run (a refused key, a store error) stops new
        // launches and is rethrown once the calls in flight have ended, so no call is cancelled midway.
        var failure: (any Error)? = nil
        await withTaskGroup(of: (any Error)?.self) { group in
            var next = items.makeIterator()
            func launch() -> Bool {
                guard failure == nil, !stop.isRequested, let item = next.next() else { return false }
                group.addTask {
                    do {
                        try await call.run(item)
                        return nil
                    } catch {
                        return error
                    }
                }
                return true
            }
            for _ in 0..<scenario.concurrency where !launch() { break }
            while let error = await group.next() {
                if let error {
                    if failure == nil { failure = error }
                } else {
                    progress.advance { counters.note }
                }
                _ = launch()
            }
        }
        if let failure { throw failure }
    }

    /// Judges cached replies and stores their results, in windows of a few thousand: each window is judged while
    /// the one before it is written, and committed on its own, so a long replay stopped by Ctrl-C (checked between
    /// windows) or killed keeps what it wrote.
    private func storeCached(
        _ hits: [(WorkItem, CachedReply)],
        context: Context,
        results: ResultStore,
        stored: @Sendable (Int) -> Void
    ) async throws {
        let window = 2048
        // While a window is written (one core, in SQLite), the next is judged on the other cores.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var start = 0
        var judged = await Self.judge(hits[0..<min(window, hits.count)], threads: cores, context: context)
        while !judged.isEmpty, !stop.isRequested {
            let count = judged.reduce(0) { $0 + $1.count }
            start += count
            let next = hits[start..<min(start + window, hits.count)]
            async let judgingNext = Self.judge(next, threads: max(1, cores - 1), context: context)
            try await results.write(judged)
            stored(count)
            judged = await judgingNext
        }
    }

    /// The results of cached replies, judged in parallel slices, one child task each (kept apart: joining them
    /// would copy every row).
    private static func judge(
        _ hits: ArraySlice<(WorkItem, CachedReply)>, threads: Int, context: Context
    ) async -> [[ResultRecord]] {
        guard !hits.isEmpty else { return [] }
        let slices = min(threads, (hits.count + 255) / 256)
        let size = (hits.count + slices - 1) / slices
        return await withTaskGroup(of: (Int, [ResultRecord]).self) { group in
            for slice in 0..<slices {
                let lower = hits.startIndex + slice * size
                let part = hits[lower..<min(lower + size, hits.endIndex)]
                group.addTask {
                    let rows = part.map { item, reply in
                        context.result(
                            item,
                            reply: reply.text.map(Judge.Reply.text)
                                ?? .transportFailure(reply.error ?? "no reply text"),
                            replyId: reply.id, cacheHit: reply.cacheHit, stale: reply.stale)
                    }
                    return (slice, rows)
                }
            }
            var parts = [[ResultRecord]](repeating: [], count: slices)
            for await (slice, rows) in group { parts[slice] = rows }
            return parts
        }
    }
}

/// One live call with its retries, and the storing of what came of it.
struct LiveCall: Sendable {
    var results: ResultStore
    var context: Runner.Context
    var provider: Provider
    var baseURL: String
    var authorization: (String, String)?
    /// Takes the key out of every response body and error text before it is parsed, stored or printed (a
    /// provider or proxy may echo request headers).
    var redactor: Redactor
    var client: any HTTPClient
    var limiter: RateLimiter
    var policy: RetryPolicy
    var counters: RunCounters

    func run(_ item: Runner.WorkItem) async throws {
        let http = provider.httpRequest(for: item.request, baseURL: baseURL, timeout: context.scenario.model.timeout)
        let estimate =
            Double(item.request.system.utf8.count + item.request.user.utf8.count) / 4
            + Double(item.request.maxTokens)
        var attempt = 0
        while true {
            attempt += 1
            try await limiter.acquire(tokens: estimate)
            let start = DispatchTime.now()
            var response: HTTPResponse
            do {
                response = try await client.send(http, authorization: authorization)
                if !redactor.isEmpty { response.body = redactor.redact(response.body) }
            } catch let error as TransportError {
                if attempt < policy.maxAttempts, counters.takeRetry() {
                    try await Task.sleep(
                        nanoseconds: UInt64(
                            policy.delay(afterAttempt: attempt, retryAfter: nil, random: .random(in: 0...1)) * 1e9))
                    continue
                }
                try await storeTransportFailure(item, error: redactor.redact("\(error) after \(attempt) attempt(s)"))
                let isConnection = if case .connection = error { true } else { false }
                counters.called(succeeded: false, connectionError: isConnection, inputTokens: nil, outputTokens: nil)
                return
            }
            let latency = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            if (200..<300).contains(response.status) {
                let reply = provider.parse(body: response.body)
                let actual = Double((reply.inputTokens ?? 0) + (reply.outputTokens ?? 0))
                if actual > 0 { await limiter.settle(estimated: estimate, actual: actual) }
                try await storeReply(
                    item, response: response, reply: reply, error: reply.text == nil ? reply.note : nil,
                    latency: latency, attempts: attempt)
                counters.called(
                    succeeded: reply.text != nil, connectionError: false, inputTokens: reply.inputTokens,
                    outputTokens: reply.outputTokens)
                return
            }
            let detail = Self.errorDetail(response)
            if RetryPolicy.isRetryable(status: response.status) {
                if attempt < policy.maxAttempts, counters.takeRetry() {
                    let wait = policy.delay(
                        afterAttempt: attempt, retryAfter: response.headers["retry-after"], random: .random(in: 0...1))
                    try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                    continue
                }
                try await storeTransportFailure(
                    item, error: "HTTP \(response.status): \(detail) after \(attempt) attempt(s)")
                counters.called(succeeded: false, connectionError: false, inputTokens: nil, outputTokens: nil)
                return
            }
            if [401, 403, 404].contains(response.status) {
                throw RunError.rejected(status: response.status, url: http.url.absoluteString, detail: detail)
            }
            // Another 4xx — a context-length 400, say — is the service's answer to this request: stored and
            // cached as a result, never retried.
            try await storeReply(
                item, response: response, reply: ProviderReply(), error: "HTTP \(response.status): \(detail)",
                latency: latency, attempts: attempt)
            counters.called(succeeded: false, connectionError: false, inputTokens: nil, outputTokens: nil)
            return
        }
    }

    /// A short description of an error response: the API's error code and message when it gives them.
    static func errorDetail(_ response: HTTPResponse) -> String {
        guard let value = try? JSONParser.parse(response.body), let error = value["error"] else {
            return String(decoding: response.body.prefix(200), as: UTF8.self)
        }
        let code = error["code"]?.stringValue ?? error["type"]?.stringValue
        let message = error["message"]?.stringValue ?? error.stringValue ?? ""
        return [code, String(message.prefix(200))].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
    }

    private func storeReply(
        _ item: Runner.WorkItem, response: HTTPResponse, reply: ProviderReply, error: String?, latency: Double,
        attempts: Int
    ) async throws {
        let request = item.request
        let row = ReplyRecord(
            incidentId: item.label.incidentId, sample: item.sample, provider: request.provider, model: request.model,
            requestSha256: item.requestSha256, userSha256: request.userSha256, systemSha256: request.systemSha256,
            text: reply.text, stopReason: reply.stopReason, usage: reply.usage.map { PythonJSONEncoder.string($0) },
            inputTokens: reply.inputTokens, outputTokens: reply.outputTokens, httpStatus: response.status,
            error: error, rawBody: response.body, latencyMs: latency, attempts: attempts, source: "live",
            recordedAt: UTCTimestamp.string())
        // A call for the pipeline replay alone stores its reply; the replay judges it with its message.
        let result =
            item.recordsOnly
            ? nil
            : context.result(
                item, reply: reply.text.map(Judge.Reply.text) ?? .transportFailure(error ?? "no reply text"),
                replyId: nil, cacheHit: false, stale: false)
        try await results.write(reply: row, result: result)
    }

    private func storeTransportFailure(_ item: Runner.WorkItem, error: String) async throws {
        // Nothing is cached for a failed call; the pipeline replay shows its message as a transport failure, and
        // a resume calls again.
        guard !item.recordsOnly else { return }
        let result = context.result(
            item, reply: .transportFailure(error), replyId: nil, cacheHit: false, stale: false)
        try await results.write(reply: nil, result: result)
    }
}

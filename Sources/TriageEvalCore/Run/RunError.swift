import Foundation

/// Errors that stop a run (set-up errors: exit 2), or an interruption (the run can be resumed).
package enum RunError: LocalizedError, Equatable {
    case noLabels(corpus: String, path: String)
    case missingReplies(model: String, match: String, missing: [String], total: Int)
    case missingMessageReplies(model: String, match: String, missing: [String], planned: Int)
    case pipelineCacheMode(String)
    case unknownRun(String)
    case missingAPIKey(variable: String)
    case noBaseURL
    case rejected(status: Int, url: String, detail: String)
    case unreachable(url: String, detail: String)
    case scenarioChanged(runId: String, path: String)
    case labelsChanged(runId: String, corpus: String)
    case alreadyComplete(String)
    case interrupted(runId: String, done: Int, total: Int)
    case noBaselineRun(String, gate: String)
    case runIncomplete(String)
    case replayedElsewhere(runId: String, pid: Int, host: String)
    case unrecordedCalls(runId: String, count: Int)
    case shardFailures(runId: String, count: Int)

    package var errorDescription: String? {
        switch self {
        case .noLabels(let corpus, let path): return "corpus '\(corpus)': no labels file at \(path)"
        case .missingReplies(let model, let match, let missing, let total):
            return "replay: \(missing.count) of \(total) samples have no cached reply for model '\(model)' "
                + "(match: \(match)):\n  \(Self.listed(missing))\n(record them with cache: record, import them with "
                + "'triage-eval cache import FILE', or fix the scenario's model)"
        case .missingMessageReplies(let model, let match, let missing, let planned):
            return "pipeline replay: \(missing.count) of \(planned) planned messages have no stored reply for model "
                + "'\(model)' (match: \(match)), not even for an earlier planning of the same user message:\n  "
                + "\(Self.listed(missing))\n(import replies to these messages with 'triage-eval cache import FILE', or plan "
                + "fewer kinds with pipeline.plan, or record them with cache: record)"
        case .pipelineCacheMode(let mode):
            return "a pipeline replay takes its replies from the cache (cache: replay) or records the missing ones "
                + "(cache: record); cache: \(mode) would ask the model again for every planning"
        case .unknownRun(let id): return "no run '\(id)' in the store"
        case .missingAPIKey(let variable):
            return "the environment variable \(variable) (model.api_key_env) is not set"
        case .noBaseURL: return "a live run needs model.base_url"
        case .rejected(let status, let url, let detail):
            return "\(url) answered HTTP \(status): \(detail) (check model.base_url, model.name and the API key)"
        case .unreachable(let url, let detail): return "\(url) is unreachable: \(detail)"
        case .scenarioChanged(let runId, let path):
            return "\(path) changed since run \(runId) started; resume needs the same scenario"
        case .labelsChanged(let runId, let corpus):
            return "the labels of corpus '\(corpus)' changed since run \(runId) started; resume needs the labels it "
                + "was judged against (start a new run for the new labels)"
        case .alreadyComplete(let id): return "run \(id) is already complete, with no transport failures to retry"
        case .noBaselineRun(let reference, let gate):
            return "gates.\(gate): no complete run of '\(reference)' in the store "
                + "(run the baseline first: triage-eval run \(reference))"
        case .replayedElsewhere(let runId, let pid, let host):
            return "run \(runId) is being replayed by process \(pid) on \(host); let it finish (or stop it) "
                + "before resuming"
        case .unrecordedCalls(let runId, let count):
            return "shard run \(runId): the calls of \(count) pipeline messages failed and stored no reply; the run "
                + "stays unfinished: run the same command again (or triage-eval run --resume \(runId)) to retry them"
        case .shardFailures(let runId, let count):
            return "shard run \(runId): \(count) calls failed in transport; the merge needs them: run the same "
                + "command again (or triage-eval run --resume \(runId)) to retry them"
        case .runIncomplete(let id):
            return "run \(id) is not complete (finish it with: triage-eval run --resume \(id))"
        case .interrupted(let runId, let done, let total):
            return "interrupted after \(done) of \(total) samples; continue with: triage-eval run --resume \(runId)"
        }
    }

    /// Whether the error says a shard's calls failed (run the same command again), not that its set-up is wrong.
    package var isShardRetry: Bool {
        switch self {
        case .unrecordedCalls, .shardFailures: return true
        default: return false
        }
    }

    /// The first 20 items, one per line, and how many more there are.
    private static func listed(_ items: [String]) -> String {
        items.prefix(20).joined(separator: "\n  ") + (items.count > 20 ? "\n  … and \(items.count - 20) more" : "")
    }
}

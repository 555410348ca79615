import Foundation

/// Why a corpus cannot be replayed message by message.
package enum PipelineError: LocalizedError, Equatable {
    /// Some sightings have no receive time.
    case noReceiveTimes(corpus: String, missing: Int, total: Int, example: String)
    /// The corpus has no deliveries.
    case noMessages(corpus: String)

    package var errorDescription: String? {
        switch self {
        case .noReceiveTimes(let corpus, let missing, let total, let example):
            return """
                corpus '\(corpus)': \(missing) of \(total) deliveries have no receive time (first: \(example)), so \
                they cannot be replayed in time order; record the corpus with `triage-eval capture`, or put a \
                sidecar beside each JSON Lines file (NAME.headers.jsonl: line N holds {"recv_unix": SECONDS} of \
                line N), or leave out the scenario's pipeline: section
                """
        case .noMessages(let corpus):
            return "corpus '\(corpus)' has no deliveries to replay"
        }
    }
}

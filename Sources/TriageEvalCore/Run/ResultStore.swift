import Dispatch
import GRDB
import Synchronization

/// Writes a run's results (and the replies of live calls) to the store with group commit.
///
/// A live call hands its reply and result to ``write(reply:result:)`` and resumes once they are committed, so
/// an interrupted run never counts a sample that is not on disk. Calls that finish while a transaction is being
/// written wait for the next one, which takes all of them: one transaction per call when calls are slow, a few
/// hundred per transaction when a fast server answers 64 at a time. Cached replies are written in windows by
/// ``write(_:)``.
final class ResultStore: Sendable {
    private struct Pending {
        var entries: [(reply: ReplyRow?, result: ResultRow, continuation: CheckedContinuation<Void, any Error>)] = []
        var writing = false
    }

    private let store: Store
    private let pending = Mutex(Pending())
    private let writer = DispatchQueue(label: "triage-eval.results")

    init(store: Store) {
        self.store = store
    }

    /// Stores a live call's reply (if it got one) and its result, returning once both are committed.
    func write(reply: ReplyRow?, result: ResultRow) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startWriter = pending.withLock { pending -> Bool in
                pending.entries.append((reply, result, continuation))
                guard !pending.writing else { return false }
                pending.writing = true
                return true
            }
            if startWriter { writer.async { self.drain() } }
        }
    }

    /// Stores judged results of cached replies in one transaction.
    func write(_ results: [[ResultRow]]) async throws {
        try await store.queue.write { db in
            let delete = try RawStatement(db, sql: ResultRow.deleteSQL)
            let insert = try RawStatement(db, sql: ResultRow.insertSQL)
            var texts = RawStatement.Texts()
            for slice in results {
                for result in slice { try result.store(delete: delete, insert: insert, texts: &texts) }
            }
        }
    }

    /// Commits what is pending, again and again until nothing is.
    private func drain() {
        while true {
            let batch = pending.withLock { pending -> [(ReplyRow?, ResultRow, CheckedContinuation<Void, any Error>)] in
                if pending.entries.isEmpty { pending.writing = false }
                defer { pending.entries.removeAll(keepingCapacity: true) }
                return pending.entries
            }
            guard !batch.isEmpty else { return }
            do {
                try store.queue.write { db in
                    let insertReply = try RawStatement(db, sql: ReplyRow.insertSQL)
                    let deleteResult = try RawStatement(db, sql: ResultRow.deleteSQL)
                    let insertResult = try RawStatement(db, sql: ResultRow.insertSQL)
                    var texts = RawStatement.Texts()
                    for (reply, result, _) in batch {
                        var result = result
                        if let reply { result.replyId = try reply.insert(with: insertReply) }
                        try result.store(delete: deleteResult, insert: insertResult, texts: &texts)
                    }
                }
                for (_, _, continuation) in batch { continuation.resume() }
            } catch {
                for (_, _, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
    }
}

import GRDB

/// Writes a run's results (and the replies of live calls) to the store with group commit.
///
/// A live call hands its reply and result to ``write(reply:result:)`` and returns once they are committed, so an
/// interrupted run never counts a sample that is not on disk. The first call to arrive while nothing is being
/// written leads: it commits its own entry and then, batch after batch, every entry that arrived while the
/// previous transaction was written — one transaction per call when calls are slow, a few hundred per
/// transaction when a fast server answers 64 at a time. The others wait for their batch's commit. Cached
/// replies are written in windows by ``write(_:)``.
///
/// The writes themselves run on GRDB's writer queue (its async `write`), never on the cooperative pool.
actor ResultStore {
    private struct Entry {
        var reply: ReplyRecord?
        /// nil for a call the pipeline replay records (a reply, no incident result).
        var result: ResultRecord?
        /// nil for the leader's own entry.
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let store: Store
    private var pending: [Entry] = []
    private var writing = false

    init(store: Store) {
        self.store = store
    }

    /// Stores a live call's reply (if it got one) and its result (nil for a reply the pipeline replay recorded),
    /// returning once both are committed.
    func write(reply: ReplyRecord?, result: ResultRecord?) async throws {
        guard !writing else {
            try await withCheckedThrowingContinuation { waiter in
                pending.append(Entry(reply: reply, result: result, waiter: waiter))
            }
            return
        }
        writing = true
        defer { writing = false }
        var batch = [Entry(reply: reply, result: result, waiter: nil)]
        var ownError: (any Error)?
        while !batch.isEmpty {
            let rows = batch.map { ($0.reply, $0.result) }
            do {
                try await commit(rows)
                for entry in batch { entry.waiter?.resume() }
            } catch {
                for entry in batch {
                    if let waiter = entry.waiter { waiter.resume(throwing: error) } else { ownError = error }
                }
            }
            batch = pending
            pending = []
        }
        if let ownError { throw ownError }
    }

    /// Stores judged results of cached replies in one transaction.
    func write(_ results: [[ResultRecord]]) async throws {
        try await store.queue.write { db in
            let delete = try RawStatement(db, sql: ResultRecord.deleteSQL)
            let insert = try RawStatement(db, sql: ResultRecord.insertSQL)
            var texts = RawStatement.Texts()
            for slice in results {
                for result in slice { try result.store(delete: delete, insert: insert, texts: &texts) }
            }
        }
    }

    /// One transaction: each reply, then its result (which names the reply).
    private func commit(_ rows: [(ReplyRecord?, ResultRecord?)]) async throws {
        try await store.queue.write { db in
            let insertReply = try RawStatement(db, sql: ReplyRecord.insertSQL)
            let deleteResult = try RawStatement(db, sql: ResultRecord.deleteSQL)
            let insertResult = try RawStatement(db, sql: ResultRecord.insertSQL)
            var texts = RawStatement.Texts()
            for (reply, result) in rows {
                let replyId = try reply.map { try $0.insert(with: insertReply) }
                guard var result else { continue }
                if let replyId { result.replyId = replyId }
                try result.store(delete: deleteResult, insert: insertResult, texts: &texts)
            }
        }
    }
}

import Foundation
import GRDB

/// One sighting of a stored delivery — its first (`delivery`) or a later one (`deliveryRepeat`) — as the pipeline
/// replay reads them.
package struct DeliverySighting: Sendable, Equatable {
    package var deliveryId: Int64
    package var source: String
    package var receivedAt: Double?
    package var incidentId: String?
    package var status: String
    /// The order it was stored in (ties between equal receive times keep it).
    package var ingestOrder: Int

    package init(
        deliveryId: Int64, source: String, receivedAt: Double?, incidentId: String?, status: String, ingestOrder: Int
    ) {
        self.deliveryId = deliveryId
        self.source = source
        self.receivedAt = receivedAt
        self.incidentId = incidentId
        self.status = status
        self.ingestOrder = ingestOrder
    }

    /// The two halves of a corpus's sightings (or one incident's), each in receive order — a delivery's first
    /// sightings, and its repeats without a re-ingest of a file already read (the same delivery from the same
    /// source, which is not another message) — each with the stored digest of its delivery's user message under
    /// an encoding. Columns: delivery id, source, receive time, incident, status, ingest time, digest, and the
    /// delivery's stored deploy targets. ``Timeline`` merges them.
    /// Parameters: ?1 the corpus, ?2 the encoding, and ?3 the incident when `incident` is true.
    private static func timelineSQL(repeats: Bool, incident: Bool) -> String {
        let deliveries =
            incident ? "delivery d INDEXED BY delivery_incident" : "delivery d INDEXED BY delivery_timeline"
        let filter = incident ? "d.corpus = ?1 AND d.incidentId = ?3" : "d.corpus = ?1"
        let digest =
            "LEFT JOIN deliveryEvent e ON e.deliveryId = d.id AND e.incidentId = d.incidentId AND e.encoding = ?2"
        guard repeats else {
            return """
                SELECT d.id, d.source, d.receivedAt, d.incidentId, d.status, d.ingestedAt, e.userSha256, e.targets
                FROM \(deliveries) \(digest)
                WHERE \(filter)
                ORDER BY d.receivedAt, d.ingestedAt, d.id
                """
        }
        // A corpus's repeats are read in the order of their own timeline index, so that neither half is sorted
        // as a whole (a sort of a million sightings held the first message back for seconds); one incident's
        // are few, and are found from its deliveries.
        let repeatsJoin =
            incident
            ? "\(deliveries) CROSS JOIN deliveryRepeat r ON r.deliveryId = d.id"
            : "deliveryRepeat r INDEXED BY deliveryRepeat_timeline CROSS JOIN delivery d ON d.id = r.deliveryId"
        return """
            SELECT d.id, r.source, r.receivedAt, d.incidentId, d.status, r.ingestedAt, e.userSha256, e.targets
            FROM \(repeatsJoin) \(digest)
            WHERE \(filter) AND r.source != d.source AND NOT EXISTS (
                SELECT 1 FROM deliveryRepeat p WHERE p.deliveryId = r.deliveryId AND p.source = r.source AND p.id < r.id)
            ORDER BY r.receivedAt, r.ingestedAt, r.id
            """
    }

    /// A corpus's sightings in receive order, read one at a time: a corpus of any size is never held in memory.
    /// Its order is the pipeline replay's message order: by receive time — sightings without one first — and,
    /// among equal times, in the order they were stored (ingest time; of one ingest, a delivery's first sighting
    /// before a repeat, then by id). The two halves of ``timelineSQL(repeats:incident:)``, each read in that
    /// order, are merged.
    package final class Timeline {
        private let deliveries: RawStatement
        private let repeats: RawStatement
        /// Whether each half's statement is on a row (nil before its first step).
        private var onDelivery: Bool?
        private var onRepeat: Bool?
        private var position = 0
        /// Whether ``next()`` gives out the stored deploy targets (only deploy suppression reads them).
        private let targets: Bool

        /// The sightings of a corpus, or of one incident of it; with their deploy targets when `targets` is true.
        package init(
            _ db: Database, corpus: String, encoding: Int, incidentId: String? = nil, targets: Bool = false
        ) throws {
            self.targets = targets
            deliveries = try RawStatement(db, sql: timelineSQL(repeats: false, incident: incidentId != nil))
            repeats = try RawStatement(db, sql: timelineSQL(repeats: true, incident: incidentId != nil))
            for statement in [deliveries, repeats] {
                statement.bind(1, corpus)
                statement.bind(2, Int64(encoding))
                if let incidentId { statement.bind(3, incidentId) }
            }
        }

        /// The next sighting, its delivery's stored user-message digest and — when asked for — its stored deploy
        /// targets (``DeployTimeline/storedText(_:)``; each nil when none is stored); nil after the last.
        package func next() throws -> (sighting: DeliverySighting, userSha256: String?, targets: String?)? {
            if onDelivery == nil { onDelivery = try deliveries.step() }
            if onRepeat == nil { onRepeat = try repeats.step() }
            let statement: RawStatement
            switch (onDelivery!, onRepeat!) {
            case (false, false): return nil
            case (true, false): statement = deliveries
            case (false, true): statement = repeats
            case (true, true): statement = Self.precedes(repeats, deliveries) ? repeats : deliveries
            }
            defer { position += 1 }
            let row = (
                DeliverySighting(
                    deliveryId: Int64(statement.int(0)), source: statement.text(1) ?? "",
                    receivedAt: statement.double(2), incidentId: statement.text(3),
                    status: statement.text(4) ?? "", ingestOrder: position),
                statement.text(6),
                targets ? statement.text(7) : nil
            )
            if statement === deliveries { onDelivery = try deliveries.step() } else { onRepeat = try repeats.step() }
            return row
        }

        /// Whether the repeat on `later` comes strictly before the delivery on `delivery`: an earlier receive time
        /// (none is earliest, as SQLite orders NULL), else an earlier ingest time. Of one time and one ingest, the
        /// delivery comes first.
        private static func precedes(_ later: RawStatement, _ delivery: RawStatement) -> Bool {
            let (a, b) = (later.double(2), delivery.double(2))
            if a != b {
                guard let b else { return false }
                guard let a else { return true }
                return a < b
            }
            return later.withBytes(5) { a in delivery.withBytes(5) { b in a.lexicographicallyPrecedes(b) } }
        }
    }

    /// Whether any sighting of a corpus may lack a receive time (a re-ingest's sighting, which is no message, may
    /// make it say so when none does).
    static func mayLackReceiveTimes(_ db: Database, corpus: String) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (
                    SELECT 1 FROM delivery INDEXED BY delivery_timeline WHERE corpus = ?1 AND receivedAt IS NULL
                ) OR EXISTS (
                    SELECT 1 FROM deliveryRepeat r JOIN delivery d ON d.id = r.deliveryId
                    WHERE r.receivedAt IS NULL AND d.corpus = ?1)
                """,
            arguments: [corpus]) ?? true
    }

    /// How many sightings a corpus has (as ``Timeline`` reads them), and how many of its deliveries with an
    /// incident have no stored reply of sample 0 from a model to their user message — counting one whose digest
    /// is not stored under `encoding`. When none has, every planning of every message finds a reply.
    ///
    /// It looks up every delivery's digest and reply (seconds for a million messages), so it is counted in the
    /// background — a run prepares its incident replay meanwhile — with the deliveries split by id between two
    /// connections of its own, one on each core (on the store's one connection for an in-memory store).
    /// - Returns: the work counting it; its ``BackgroundWork/value()`` is the census or throws a database error.
    package static func census(
        store: Store, corpus: String, encoding: Int, provider: String, model: String
    ) throws -> BackgroundWork<(sightings: Int, withoutFirstSample: Int)> {
        guard let even = try store.reader(), let odd = try store.reader() else {
            return BackgroundWork(label: "triage-eval.census") {
                try store.queue.read { db in
                    try census(
                        db, corpus: corpus, encoding: encoding, provider: provider, model: model, part: 0, of: 1)
                }
            }
        }
        let oddHalf = BackgroundWork(label: "triage-eval.census") {
            try odd.read { db in
                try census(db, corpus: corpus, encoding: encoding, provider: provider, model: model, part: 1, of: 2)
            }
        }
        return BackgroundWork(label: "triage-eval.census") {
            let first = try even.read { db in
                try census(db, corpus: corpus, encoding: encoding, provider: provider, model: model, part: 0, of: 2)
            }
            let second = try oddHalf.value()
            return (first.sightings + second.sightings, first.withoutFirstSample + second.withoutFirstSample)
        }
    }

    /// ``census(store:corpus:encoding:provider:model:)`` of the deliveries whose id is `part` modulo `parts`.
    static func census(
        _ db: Database, corpus: String, encoding: Int, provider: String, model: String, part: Int, of parts: Int
    ) throws -> (sightings: Int, withoutFirstSample: Int) {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT count(*) + coalesce(sum((
                        SELECT count(*) FROM deliveryRepeat r
                        WHERE r.deliveryId = d.id AND r.source != d.source AND NOT EXISTS (
                            SELECT 1 FROM deliveryRepeat p
                            WHERE p.deliveryId = r.deliveryId AND p.source = r.source AND p.id < r.id))), 0),
                    coalesce(sum(d.incidentId IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM deliveryEvent e JOIN reply p
                            ON p.incidentId = e.incidentId AND p.userSha256 = e.userSha256
                        WHERE e.deliveryId = d.id AND e.incidentId = d.incidentId AND e.encoding = ?2
                            AND p.provider = ?3 AND p.model = ?4 AND p.sample = 0)), 0)
                FROM delivery d INDEXED BY delivery_timeline WHERE d.corpus = ?1 AND d.id % ?6 = ?5
                """,
            arguments: [corpus, encoding, provider, model, part, parts])
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// Delivery bodies read one by one, each lent in place (the pipeline replay reads the body of a delivery whose
    /// decision submits Workflows for its alerts' deploy targets when the store has none for it).
    final class BodyReader {
        private let statement: RawStatement

        init(_ db: Database) throws {
            statement = try RawStatement(db, sql: "SELECT body FROM delivery WHERE id = ?")
        }

        /// `read` of a delivery's body, or nil without such a delivery.
        func withBody<T>(of deliveryId: Int64, _ read: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
            statement.bind(1, deliveryId)
            guard try statement.step() else { return nil }
            defer { statement.reset() }
            return try statement.withBytes(0, read)
        }
    }

    /// A delivery's body.
    package static func body(_ db: Database, deliveryId: Int64) throws -> [UInt8]? {
        // A cached statement: compiled (and authorized by GRDB) once, not once per delivery.
        try Data.fetchOne(
            db.cachedStatement(sql: "SELECT body FROM delivery WHERE id = ?"), arguments: [deliveryId]
        ).map(Array.init)
    }
}

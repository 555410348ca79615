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

    /// The sightings of a corpus (or of one incident in it), as one query: a delivery's first sighting and its
    /// repeats, without a re-ingest of a file already read (the same delivery from the same source, which is not
    /// another message), in receive order — sightings without a receive time first — and, among equal times, in
    /// the order they were stored; each with the stored digest of its delivery's user message under an encoding.
    /// Parameters: ?1 the corpus, ?2 the encoding, and ?3 the incident when `filter` names one.
    private static func timelineSQL(deliveries: String, filter: String) -> String {
        """
        SELECT s.deliveryId, s.source, s.receivedAt, s.incidentId, s.status, e.userSha256 FROM (
            SELECT d.id AS deliveryId, d.source, d.receivedAt, d.incidentId, d.status, d.ingestedAt, 0 AS isRepeat,
                d.id AS k
            FROM \(deliveries) WHERE d.corpus = ?1\(filter)
            UNION ALL
            SELECT d.id, r.source, r.receivedAt, d.incidentId, d.status, r.ingestedAt, 1, r.id
            FROM \(deliveries) CROSS JOIN deliveryRepeat r ON r.deliveryId = d.id
            WHERE d.corpus = ?1\(filter) AND r.source != d.source AND NOT EXISTS (
                SELECT 1 FROM deliveryRepeat p WHERE p.deliveryId = r.deliveryId AND p.source = r.source AND p.id < r.id)
        ) s
        LEFT JOIN deliveryEvent e ON e.deliveryId = s.deliveryId AND e.incidentId = s.incidentId AND e.encoding = ?2
        ORDER BY s.receivedAt, s.ingestedAt, s.isRepeat, s.k
        """
    }

    /// A corpus's sightings in receive order (``timelineSQL(deliveries:filter:)``), read one at a time: a corpus of
    /// any size is never held in memory. Its order is the pipeline replay's message order.
    final class Timeline {
        private let statement: RawStatement
        private var position = 0

        /// The sightings of a corpus, or of one incident of it.
        init(_ db: Database, corpus: String, encoding: Int, incidentId: String? = nil) throws {
            // The corpus's scan reads the timeline index alone (no body page); one incident's, its deliveries.
            statement = try RawStatement(
                db,
                sql: incidentId == nil
                    ? timelineSQL(deliveries: "delivery d INDEXED BY delivery_timeline", filter: "")
                    : timelineSQL(
                        deliveries: "delivery d INDEXED BY delivery_incident", filter: " AND d.incidentId = ?3"))
            statement.bind(1, corpus)
            statement.bind(2, Int64(encoding))
            if let incidentId { statement.bind(3, incidentId) }
        }

        /// The next sighting and its delivery's stored user-message digest (nil when none is stored); nil after
        /// the last.
        func next() throws -> (sighting: DeliverySighting, userSha256: String?)? {
            guard try statement.step() else { return nil }
            defer { position += 1 }
            return (
                DeliverySighting(
                    deliveryId: Int64(statement.int(0)), source: statement.text(1) ?? "",
                    receivedAt: statement.double(2), incidentId: statement.text(3),
                    status: statement.text(4) ?? "", ingestOrder: position),
                statement.text(5)
            )
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
    static func census(
        _ db: Database, corpus: String, encoding: Int, provider: String, model: String
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
                FROM delivery d INDEXED BY delivery_timeline WHERE d.corpus = ?1
                """,
            arguments: [corpus, encoding, provider, model])
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// Delivery bodies read one by one, each lent in place (the pipeline replay reads a body per delivery whose
    /// decision submits Workflows, for its alerts' deploy targets).
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

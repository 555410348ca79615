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

    /// Every sighting of a corpus's deliveries, in the order they were stored; a re-ingest of a file already read
    /// (the same delivery from the same source) is left out, since it is not another message.
    package static func all(_ db: Database, corpus: String) throws -> [DeliverySighting] {
        // A raw statement: a corpus has a sighting per message, a million for a large one.
        let rows = try RawStatement(
            db,
            sql: """
                SELECT d.id, d.source, d.receivedAt, d.incidentId, d.status, d.ingestedAt, 0 AS isRepeat, d.id AS k
                FROM delivery d WHERE d.corpus = ?1
                UNION ALL
                SELECT d.id, r.source, r.receivedAt, d.incidentId, d.status, r.ingestedAt, 1, r.rowid
                FROM deliveryRepeat r JOIN delivery d ON d.id = r.deliveryId WHERE d.corpus = ?1
                ORDER BY 6, 7, 8
                """)
        rows.bind(1, corpus)
        var sightings: [DeliverySighting] = []
        var seen = Set<SourceKey>()
        while try rows.step() {
            let sighting = DeliverySighting(
                deliveryId: Int64(rows.int(0)), source: rows.text(1) ?? "", receivedAt: rows.double(2),
                incidentId: rows.text(3), status: rows.text(4) ?? "", ingestOrder: sightings.count)
            guard seen.insert(SourceKey(deliveryId: sighting.deliveryId, source: sighting.source)).inserted else {
                continue
            }
            sightings.append(sighting)
        }
        return sightings
    }

    private struct SourceKey: Hashable {
        var deliveryId: Int64
        var source: String
    }

    /// A delivery's body.
    package static func body(_ db: Database, deliveryId: Int64) throws -> [UInt8]? {
        // A cached statement: compiled (and authorized by GRDB) once, not once per delivery.
        try Data.fetchOne(
            db.cachedStatement(sql: "SELECT body FROM delivery WHERE id = ?"), arguments: [deliveryId]
        ).map(Array.init)
    }
}

import GRDB

/// The `deliveryEvent` table: the SHA-256 of each delivery's user message, computed once per encoding.
enum DeliveryEventRecord {
    /// A delivery as the event of an incident.
    struct DeliveryOfIncident {
        var deliveryId: Int64
        var incidentId: String
    }

    /// The deliveries of a corpus, with their incident, whose user-message digest is not stored under `encoding`
    /// (or is stored without its deploy targets, by a store older than them), by id.
    static func missing(_ db: Database, corpus: String, encoding: Int) throws -> [DeliveryOfIncident] {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT d.id, d.incidentId FROM delivery d
                WHERE d.corpus = ? AND d.incidentId IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM deliveryEvent e
                    WHERE e.deliveryId = d.id AND e.incidentId = d.incidentId AND e.encoding = ?
                        AND e.targets IS NOT NULL)
                ORDER BY d.id
                """,
            arguments: [corpus, encoding])
        var missing: [DeliveryOfIncident] = []
        while let row = try rows.next() { missing.append(DeliveryOfIncident(deliveryId: row[0], incidentId: row[1])) }
        return missing
    }

    /// Each incident's first delivery (its event's body, as the incident replay builds it) with the stored digest of
    /// its user message under `encoding` (nil when none is stored), in the order of `incidentIds`.
    /// - Throws: ``IncidentError/unknown(_:)`` for an id that is no stored incident, database errors.
    static func firstDeliveries(
        _ db: Database, incidentIds: [String], encoding: Int
    ) throws -> [(deliveryId: Int64, userSha256: String?)] {
        let statement = try RawStatement(
            db,
            sql: """
                SELECT i.firstDeliveryId, e.userSha256 FROM incident i
                LEFT JOIN deliveryEvent e ON e.deliveryId = i.firstDeliveryId AND e.incidentId = i.id AND e.encoding = ?
                WHERE i.id = ?
                """)
        return try incidentIds.map { incidentId in
            statement.bind(1, Int64(encoding))
            statement.bind(2, incidentId)
            guard try statement.step() else { throw IncidentError.unknown(incidentId) }
            let row = (Int64(statement.int(0)), statement.text(1))
            while try statement.step() {}
            return row
        }
    }

    /// The statement that stores one digest: deliveryId, incidentId, encoding, userSha256, and the delivery's deploy
    /// targets (``DeployTimeline/storedText(_:)``).
    static func insert(_ db: Database) throws -> RawStatement {
        try RawStatement(
            db,
            sql: """
                INSERT OR REPLACE INTO deliveryEvent (deliveryId, incidentId, encoding, userSha256, targets)
                VALUES (?, ?, ?, ?, ?)
                """)
    }

    /// Reads stored digests one delivery at a time (prepared once).
    struct Lookup {
        private let statement: RawStatement
        private let encoding: Int64

        init(_ db: Database, encoding: Int) throws {
            statement = try RawStatement(
                db,
                sql: "SELECT userSha256 FROM deliveryEvent WHERE deliveryId = ? AND incidentId = ? AND encoding = ?")
            self.encoding = Int64(encoding)
        }

        /// The stored digest of a delivery's user message as the event of `incidentId`, nil when none is stored.
        func userSha256(deliveryId: Int64, incidentId: String) throws -> String? {
            statement.bind(1, deliveryId)
            statement.bind(2, incidentId)
            statement.bind(3, encoding)
            guard try statement.step() else { return nil }
            let digest = statement.text(0)
            // Drain the single row so that the statement is reset for the next lookup.
            while try statement.step() {}
            return digest
        }
    }
}

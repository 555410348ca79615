import Foundation
import GRDB

/// Stores webhook bodies: deduplicates deliveries, rebuilds incidents, quarantines what is not a webhook.
///
/// The same writer serves `ingest` (files) and `capture` (HTTP), so a delivery is stored identically whichever
/// way it arrived. It is used inside one write transaction at a time and keeps the open incident of each group
/// in memory; it reads them from the store the first time a group is seen, so ingests can be split across
/// invocations.
///
/// Its statements on `delivery`, `deliveryRepeat`, `alert`, `incident`, `incidentAlert` and `quarantine` are raw
/// sqlite3 statements prepared once per connection, kept here beside the writer rather than in the record layer
/// (`Store/`): they are ingest's measured hot path (`scripts/bench-ingest`, 100,000 deliveries beside a plain
/// Python loop and the bare insert).
package final class DeliveryWriter {
    /// The largest unit accepted.
    package let sizeLimit: Int
    /// The corpus the deliveries belong to, when loaded for one (recorded on new and repeated deliveries).
    package var corpus: String?
    private var openIncidents: [GroupIdentity: OpenIncident?] = [:]
    private let ingestedAt: String
    private var statements: HotStatements?

    /// The statements run for every unit, prepared once per connection.
    private final class HotStatements {
        let connection: OpaquePointer?
        let findDelivery: RawStatement
        let insertRepeat: RawStatement
        let insertDelivery: RawStatement
        let insertAlert: RawStatement

        init(_ db: Database) throws {
            connection = db.sqliteConnection
            findDelivery = try RawStatement(db, sql: "SELECT id FROM delivery WHERE sha256 = ?")
            insertRepeat = try RawStatement(
                db, sql: "INSERT INTO deliveryRepeat (deliveryId, source, receivedAt, ingestedAt) VALUES (?, ?, ?, ?)")
            insertDelivery = try RawStatement(
                db,
                sql: """
                    INSERT INTO delivery (sha256, body, receiver, groupKey, status, alertCount, truncatedAlerts,
                        source, receivedAt, incidentId, corpus, ingestedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertAlert = try RawStatement(
                db,
                sql: """
                    INSERT INTO alert (deliveryId, position, fingerprint, status, alertname, startsAt, endsAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
        }
    }

    private func hotStatements(_ db: Database) throws -> HotStatements {
        if let statements, statements.connection == db.sqliteConnection { return statements }
        let prepared = try HotStatements(db)
        statements = prepared
        return prepared
    }

    private struct GroupIdentity: Hashable {
        var receiver: String
        var groupKey: String
    }

    private struct OpenIncident {
        var id: String
        var occurrences: Set<Occurrence>
    }

    private struct Occurrence: Hashable {
        var fingerprint: String
        var startsAt: String
    }

    /// Creates a writer.
    /// - Parameter sizeLimit: the largest unit accepted, in bytes.
    package init(sizeLimit: Int = WebhookPayload.defaultSizeLimit, corpus: String? = nil) {
        self.sizeLimit = sizeLimit
        self.corpus = corpus
        self.ingestedAt = UTCTimestamp.string()
    }

    /// The incident id for a group opened by a delivery: `inc-` and 16 hex digits of
    /// sha256(receiver LF groupKey LF earliest startsAt of the delivery's firing alerts, as sent).
    package static func incidentId(receiver: String, groupKey: String, startsAt: String) -> String {
        "inc-" + Digest.sha256Hex(receiver + "\n" + groupKey + "\n" + startsAt).prefix(16)
    }

    /// The event production's planner is shown for an incident: the opening body with `"incident_id"` inserted as
    /// the first key, every other byte as sent.
    package static func event(body: UnsafeBufferPointer<UInt8>, incidentId: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 48)
        var index = 0
        while index < body.count, body[index] != UInt8(ascii: "{") {
            output.append(body[index])
            index += 1
        }
        output.append(UInt8(ascii: "{"))
        var inserted: [UInt8] = []
        inserted.append(contentsOf: "\"incident_id\":".utf8)
        PythonJSONEncoder.writeString(incidentId, to: &inserted)
        output.append(contentsOf: inserted)
        // An object with members gets a comma; `{}` would not, but the decoder never accepts an empty body.
        var next = index + 1
        while next < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[next]) { next += 1 }
        if next < body.count, body[next] != UInt8(ascii: "}") { output.append(UInt8(ascii: ",")) }
        if index + 1 <= body.count { output.append(contentsOf: body[(index + 1)...]) }
        return output
    }

    /// A unit read and checked, ready to be stored: everything that needs no database.
    package struct PreparedUnit: Sendable {
        /// The body: the unit's bytes with one trailing LF stripped; for a unit that is quarantined as too large
        /// or broken, only its first ``LineReader/fragmentPrefixBytes``.
        package var body: [UInt8]
        /// The unit's size in bytes (more than `body.count` when only a prefix is kept).
        package var byteCount: Int
        /// Where it came from (`file:line`, `capture:…`).
        package var source: String
        /// When it was received (Unix seconds), when known.
        package var receivedAt: Double?
        /// SHA-256 of the unit (of what was read of it, for a broken one), hex.
        package var sha256: String
        /// The decoded payload, or why it is not a webhook body.
        package var payload: Result<WebhookPayload, QuarantineReason>

        /// Whether the unit was too large or broken, so that only a prefix of it may be kept.
        package var isFragment: Bool {
            switch payload {
            case .failure(.tooLarge), .failure(.brokenInput): return true
            default: return false
            }
        }
    }

    /// Prepares a unit: strips one trailing LF, hashes, checks the size and decodes. Needs no database, so it can
    /// run on another thread than ``commit(_:_:)``.
    package static func prepare(
        unit: UnsafeBufferPointer<UInt8>,
        source: String,
        receivedAt: Double?,
        sizeLimit: Int
    ) -> PreparedUnit {
        var body = unit
        if body.count > 0, body[body.count - 1] == 0x0A {
            body = UnsafeBufferPointer(rebasing: body[0..<(body.count - 1)])
        }
        let sha = Digest.sha256Hex(UnsafeRawBufferPointer(body))
        if body.count > sizeLimit {
            return PreparedUnit(
                body: Array(body.prefix(LineReader.fragmentPrefixBytes)), byteCount: body.count, source: source,
                receivedAt: receivedAt, sha256: sha, payload: .failure(.tooLarge(bytes: body.count, limit: sizeLimit)))
        }
        let payload = Result { () throws(QuarantineReason) in try WebhookPayload.decode(body) }
        return PreparedUnit(
            body: Array(body), byteCount: body.count, source: source, receivedAt: receivedAt, sha256: sha,
            payload: payload)
    }

    /// Prepares a unit that was not read whole (too long to hold, or cut by a broken stream): it is quarantined
    /// with its size, the hash of what was read and its first bytes.
    package static func prepare(
        fragment: LineReader.Fragment,
        source: String,
        receivedAt: Double?,
        sizeLimit: Int
    ) -> PreparedUnit {
        let reason: QuarantineReason =
            if let broken = fragment.breakReason {
                .brokenInput(reason: broken, bytesRead: fragment.byteCount)
            } else {
                .tooLarge(bytes: fragment.byteCount, limit: sizeLimit)
            }
        return PreparedUnit(
            body: fragment.prefix, byteCount: fragment.byteCount, source: source, receivedAt: receivedAt,
            sha256: fragment.sha256, payload: .failure(reason))
    }

    /// Stores one unit (``prepare(unit:source:receivedAt:sizeLimit:)`` then ``commit(_:_:)``).
    /// - Parameters:
    ///   - db: a connection inside a write transaction.
    ///   - unit: the unit's bytes (one trailing LF is stripped here).
    ///   - source: where it came from (`file:line`, `capture:…`).
    ///   - receivedAt: when it was received (Unix seconds), when known.
    /// - Returns: what was done with it.
    package func store(
        _ db: Database,
        unit: UnsafeBufferPointer<UInt8>,
        source: String,
        receivedAt: Double?
    ) throws -> UnitOutcome {
        try commit(db, Self.prepare(unit: unit, source: source, receivedAt: receivedAt, sizeLimit: sizeLimit))
    }

    /// Stores a prepared unit: a repeat of a stored body, a quarantined unit, or a new delivery in its incident.
    /// - Parameters:
    ///   - db: a connection inside a write transaction.
    ///   - unit: the prepared unit.
    /// - Returns: what was done with it.
    package func commit(_ db: Database, _ unit: PreparedUnit) throws -> UnitOutcome {
        let sha = unit.sha256
        let source = unit.source
        let receivedAt = unit.receivedAt
        let hot = try hotStatements(db)
        if unit.isFragment {
            // Too large or broken, so not looked at: quarantined (once per content and source) even if the same
            // bytes were stored as a delivery before.
        } else {
            hot.findDelivery.bind(1, sha)
            if let existing = try hot.findDelivery.firstInteger() {
                hot.insertRepeat.bind(1, existing)
                hot.insertRepeat.bind(2, source)
                hot.insertRepeat.bind(3, receivedAt)
                hot.insertRepeat.bind(4, ingestedAt)
                try hot.insertRepeat.run()
                if let corpus {
                    try db.cachedStatement(sql: "UPDATE delivery SET corpus = ? WHERE id = ? AND corpus IS NULL")
                        .execute(arguments: [corpus, existing])
                }
                return .duplicate(deliveryId: existing)
            }
        }
        let payload: WebhookPayload
        switch unit.payload {
        case .success(let decoded): payload = decoded
        case .failure(let reason):
            return try quarantine(db, unit, reason: reason)
        }
        let group = GroupIdentity(receiver: payload.receiver, groupKey: payload.groupKey)
        let assignment = try assignIncident(db, payload: payload, group: group)
        let insert = hot.insertDelivery
        insert.bind(1, sha)
        unit.body.withUnsafeBufferPointer { insert.bind(2, blob: $0) }
        insert.bind(3, payload.receiver)
        insert.bind(4, payload.groupKey)
        insert.bind(5, payload.status)
        insert.bind(6, Int64(payload.alerts.count))
        insert.bind(7, Int64(payload.truncatedAlerts))
        insert.bind(8, source)
        insert.bind(9, receivedAt)
        insert.bind(10, assignment?.id)
        insert.bind(11, corpus)
        insert.bind(12, ingestedAt)
        try insert.run()
        let deliveryId = db.lastInsertedRowID
        for (position, alert) in payload.alerts.enumerated() {
            let row = hot.insertAlert
            row.bind(1, deliveryId)
            row.bind(2, Int64(position))
            row.bind(3, alert.fingerprint)
            row.bind(4, alert.status)
            row.bind(5, alert.alertname)
            row.bind(6, alert.startsAt)
            row.bind(7, alert.endsAt)
            try row.run()
        }
        guard let assignment else {
            return .stored(deliveryId: deliveryId, incidentId: nil, opened: false, closed: false)
        }
        try record(db, assignment: assignment, payload: payload, group: group, deliveryId: deliveryId)
        return .stored(
            deliveryId: deliveryId, incidentId: assignment.id, opened: assignment.opens,
            closed: payload.status == "resolved")
    }

    private func quarantine(_ db: Database, _ unit: PreparedUnit, reason: QuarantineReason) throws -> UnitOutcome {
        try db.cachedStatement(
            sql: """
                INSERT INTO quarantine (source, sha256, bytes, byteCount, reason, receivedAt, ingestedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (sha256, source) DO UPDATE SET seenCount = seenCount + 1
                """
        ).execute(arguments: [
            unit.source, unit.sha256, Data(unit.body), unit.byteCount, reason.description, unit.receivedAt,
            ingestedAt,
        ])
        return .quarantined(reason)
    }

    private func openIncident(_ db: Database, group: GroupIdentity) throws -> OpenIncident? {
        if let cached = openIncidents[group] { return cached }
        var found: OpenIncident? = nil
        if let id = try String.fetchOne(
            db.cachedStatement(
                sql:
                    "SELECT id FROM incident WHERE receiver = ? AND groupKey = ? AND status = 'open' ORDER BY rowid DESC"
            ),
            arguments: [group.receiver, group.groupKey]
        ) {
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT fingerprint, startsAt FROM incidentAlert WHERE incidentId = ?"),
                arguments: [id]
            )
            found = OpenIncident(
                id: id,
                occurrences: Set(rows.map { Occurrence(fingerprint: $0["fingerprint"], startsAt: $0["startsAt"]) })
            )
        }
        openIncidents[group] = .some(found)
        return found
    }

    private struct Assignment {
        var id: String
        var opens: Bool
        var incident: OpenIncident
    }

    /// Decides which incident a delivery belongs to (nil: a resolved delivery with no open incident); writes
    /// only the closing of a superseded incident.
    private func assignIncident(_ db: Database, payload: WebhookPayload, group: GroupIdentity) throws -> Assignment? {
        let occurrences = payload.alerts.map { Occurrence(fingerprint: $0.fingerprint, startsAt: $0.startsAt) }
        var current = try openIncident(db, group: group)
        if payload.status == "firing" {
            if let existing = current, existing.occurrences.isDisjoint(with: occurrences) {
                // A separate occurrence of the group (another capture, or after a silence that never resolved).
                try db.cachedStatement(sql: "UPDATE incident SET status = 'superseded' WHERE id = ?")
                    .execute(arguments: [existing.id])
                current = nil
            }
            if current == nil {
                let firing = payload.alerts.filter { $0.status == "firing" }
                let earliest = firing.min(by: { $0.start < $1.start })!
                var id = Self.incidentId(
                    receiver: payload.receiver, groupKey: payload.groupKey, startsAt: earliest.startsAt)
                // Ids are content-derived; a second incident with the same opening (re-fired with identical
                // startsAt after a resolve) gets a numbered suffix so that it stays apart and stable.
                let exists = try db.cachedStatement(sql: "SELECT 1 FROM incident WHERE id = ?")
                if try Bool.fetchOne(exists, arguments: [id]) ?? false {
                    var suffix = 2
                    while try Bool.fetchOne(exists, arguments: ["\(id)-\(suffix)"]) ?? false { suffix += 1 }
                    id = "\(id)-\(suffix)"
                }
                return Assignment(id: id, opens: true, incident: OpenIncident(id: id, occurrences: []))
            }
        }
        guard let current else { return nil }
        return Assignment(id: current.id, opens: false, incident: current)
    }

    private func record(
        _ db: Database,
        assignment: Assignment,
        payload: WebhookPayload,
        group: GroupIdentity,
        deliveryId: Int64
    ) throws {
        let resolves = payload.status == "resolved"
        if assignment.opens {
            let earliest = payload.alerts.filter { $0.status == "firing" }.min(by: { $0.start < $1.start })!
            try db.cachedStatement(
                sql: """
                    INSERT INTO incident (id, receiver, groupKey, alertname, startsAt, status, firstDeliveryId,
                        lastDeliveryId, deliveryCount)
                    VALUES (?, ?, ?, ?, ?, 'open', ?, ?, 1)
                    """
            ).execute(arguments: [
                assignment.id, payload.receiver, payload.groupKey, payload.alertname, earliest.startsAt, deliveryId,
                deliveryId,
            ])
        } else {
            try db.cachedStatement(
                sql: """
                    UPDATE incident SET lastDeliveryId = ?, deliveryCount = deliveryCount + 1,
                        status = CASE WHEN ? THEN 'resolved' ELSE status END
                    WHERE id = ?
                    """
            ).execute(arguments: [deliveryId, resolves, assignment.id])
        }
        var incident = assignment.incident
        let insertOccurrence = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO incidentAlert (incidentId, fingerprint, startsAt) VALUES (?, ?, ?)")
        for alert in payload.alerts {
            let occurrence = Occurrence(fingerprint: alert.fingerprint, startsAt: alert.startsAt)
            guard !incident.occurrences.contains(occurrence) else { continue }
            try insertOccurrence.execute(arguments: [incident.id, occurrence.fingerprint, occurrence.startsAt])
            incident.occurrences.insert(occurrence)
        }
        openIncidents[group] = .some(resolves ? nil : incident)
    }

    /// Forgets the cached open incidents (after a rolled-back transaction, the store is the truth again).
    package func resetCache() {
        openIncidents.removeAll()
    }
}

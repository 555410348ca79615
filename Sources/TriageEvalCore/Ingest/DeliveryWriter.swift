import Foundation
import GRDB

/// Stores webhook bodies: deduplicates deliveries, rebuilds incidents, quarantines what is not a webhook.
///
/// The same writer serves `ingest` (files) and `capture` (HTTP), so a delivery is stored identically whichever
/// way it arrived. It is used inside one write transaction at a time and keeps the open incident of each group
/// in memory; it reads them from the store the first time a group is seen, so ingests can be split across
/// invocations.
package final class DeliveryWriter {
    /// The largest unit accepted.
    package let sizeLimit: Int
    /// The corpus the deliveries belong to, when loaded for one (recorded on new and repeated deliveries).
    package var corpus: String?
    private var openIncidents: [GroupIdentity: OpenIncident?] = [:]
    private let ingestedAt: String

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
        self.ingestedAt = ISO8601DateFormatter().string(from: Date())
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

    /// Stores one unit.
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
        var body = unit
        if body.count > 0, body[body.count - 1] == 0x0A { body = UnsafeBufferPointer(rebasing: body[0..<(body.count - 1)]) }
        let sha = Digest.sha256Hex(UnsafeRawBufferPointer(body))
        if body.count > sizeLimit {
            return try quarantine(db, body: body, sha: sha, source: source, receivedAt: receivedAt,
                reason: .tooLarge(bytes: body.count, limit: sizeLimit))
        }
        if let existing = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM delivery WHERE sha256 = ?"), arguments: [sha])
        {
            try db.cachedStatement(
                sql: "INSERT INTO deliveryRepeat (deliveryId, source, receivedAt, ingestedAt) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [existing, source, receivedAt, ingestedAt])
            if let corpus {
                try db.cachedStatement(sql: "UPDATE delivery SET corpus = ? WHERE id = ? AND corpus IS NULL")
                    .execute(arguments: [corpus, existing])
            }
            return .duplicate(deliveryId: existing)
        }
        let payload: WebhookPayload
        do {
            payload = try WebhookPayload.decode(body)
        } catch {
            return try quarantine(db, body: body, sha: sha, source: source, receivedAt: receivedAt, reason: error)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO delivery (sha256, body, receiver, groupKey, status, alertCount, truncatedAlerts, source,
                    receivedAt, corpus, ingestedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            sha, Data(body), payload.receiver, payload.groupKey, payload.status, payload.alerts.count,
            payload.truncatedAlerts, source, receivedAt, corpus, ingestedAt,
        ])
        let deliveryId = db.lastInsertedRowID
        let alertStatement = try db.cachedStatement(
            sql: """
                INSERT INTO alert (deliveryId, position, fingerprint, status, alertname, startsAt, endsAt, labels,
                    annotations)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for (position, alert) in payload.alerts.enumerated() {
            try alertStatement.execute(arguments: [
                deliveryId, position, alert.fingerprint, alert.status, alert.alertname, alert.startsAt, alert.endsAt,
                alert.labelsJSON, alert.annotationsJSON,
            ])
        }
        let (incidentId, opened) = try assignIncident(db, payload: payload, body: body, deliveryId: deliveryId)
        return .stored(
            deliveryId: deliveryId, incidentId: incidentId, opened: opened,
            closed: incidentId != nil && payload.status == "resolved")
    }

    private func quarantine(
        _ db: Database,
        body: UnsafeBufferPointer<UInt8>,
        sha: String,
        source: String,
        receivedAt: Double?,
        reason: QuarantineReason
    ) throws -> UnitOutcome {
        try db.cachedStatement(
            sql: """
                INSERT INTO quarantine (source, sha256, bytes, byteCount, reason, receivedAt, ingestedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [source, sha, Data(body), body.count, reason.description, receivedAt, ingestedAt])
        return .quarantined(reason)
    }

    private func openIncident(_ db: Database, group: GroupIdentity) throws -> OpenIncident? {
        if let cached = openIncidents[group] { return cached }
        var found: OpenIncident? = nil
        if let id = try String.fetchOne(
            db.cachedStatement(
                sql: "SELECT id FROM incident WHERE receiver = ? AND groupKey = ? AND status = 'open' ORDER BY rowid DESC"
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

    private func assignIncident(
        _ db: Database,
        payload: WebhookPayload,
        body: UnsafeBufferPointer<UInt8>,
        deliveryId: Int64
    ) throws -> (String?, Bool) {
        let group = GroupIdentity(receiver: payload.receiver, groupKey: payload.groupKey)
        let occurrences = payload.alerts.map { Occurrence(fingerprint: $0.fingerprint, startsAt: $0.startsAt) }
        var current = try openIncident(db, group: group)
        var opened = false
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
                var id = Self.incidentId(receiver: payload.receiver, groupKey: payload.groupKey, startsAt: earliest.startsAt)
                // Ids are content-derived; a second incident with the same opening (re-fired with identical
                // startsAt after a resolve) gets a numbered suffix so that it stays apart and stable.
                if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM incident WHERE id = ?"), arguments: [id])
                    ?? false
                {
                    var suffix = 2
                    while try Bool.fetchOne(
                        db.cachedStatement(sql: "SELECT 1 FROM incident WHERE id = ?"), arguments: ["\(id)-\(suffix)"])
                        ?? false
                    {
                        suffix += 1
                    }
                    id = "\(id)-\(suffix)"
                }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO incident (id, receiver, groupKey, alertname, startsAt, status, firstDeliveryId,
                            lastDeliveryId, deliveryCount, event)
                        VALUES (?, ?, ?, ?, ?, 'open', ?, ?, 0, ?)
                        """
                ).execute(arguments: [
                    id, payload.receiver, payload.groupKey, payload.alertname, earliest.startsAt, deliveryId,
                    deliveryId, Data(Self.event(body: body, incidentId: id)),
                ])
                current = OpenIncident(id: id, occurrences: [])
                opened = true
            }
        }
        guard var incident = current else {
            return (nil, false)  // a resolved delivery with no open incident
        }
        let resolves = payload.status == "resolved"
        try db.cachedStatement(
            sql: """
                UPDATE incident SET lastDeliveryId = ?, deliveryCount = deliveryCount + 1,
                    status = CASE WHEN ? THEN 'resolved' ELSE status END
                WHERE id = ?
                """
        ).execute(arguments: [deliveryId, resolves, incident.id])
        try db.cachedStatement(sql: "UPDATE delivery SET incidentId = ? WHERE id = ?")
            .execute(arguments: [incident.id, deliveryId])
        let insertOccurrence = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO incidentAlert (incidentId, fingerprint, startsAt) VALUES (?, ?, ?)")
        for occurrence in occurrences where !incident.occurrences.contains(occurrence) {
            try insertOccurrence.execute(arguments: [incident.id, occurrence.fingerprint, occurrence.startsAt])
            incident.occurrences.insert(occurrence)
        }
        openIncidents[group] = .some(resolves ? nil : incident)
        return (incident.id, opened)
    }
}

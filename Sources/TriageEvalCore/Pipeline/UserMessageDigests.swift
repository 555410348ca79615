import Foundation
import GRDB

/// The digests of a corpus's user messages, kept in the store (`deliveryEvent`) so that a rerun finds each
/// planned message's replies without encoding its event again.
///
/// A pipeline replay looks its replies up by the SHA-256 of each delivery's user message (`json.dumps` of its
/// event), and encoding every event of a large corpus is most of a replay's preparation; the digest depends only on
/// the body, the incident id and the encoder (``Planner/userMessageEncoding``), so it is computed once. A
/// recording, or a scenario matching replies by their exact request, still encodes the events it needs as text.
enum UserMessageDigests {
    /// Computes and stores the digests of a corpus's deliveries that have none under the current encoding, a
    /// window of deliveries at a time on every core. A body that is not a JSON event is left without one: the
    /// replay that plans it encodes it again and reports the error.
    /// - Parameters:
    ///   - store: the store.
    ///   - corpus: the corpus.
    ///   - progressStyle: how progress is shown (only when there is work).
    /// - Returns: how many digests were stored.
    /// - Throws: database errors.
    @discardableResult
    static func update(store: Store, corpus: String, progressStyle: Progress.Style) throws -> Int {
        let encoding = Planner.userMessageEncoding
        let missing = try store.queue.read { db in
            try DeliveryEventRecord.missing(db, corpus: corpus, encoding: encoding)
        }
        guard !missing.isEmpty else { return 0 }
        let progress = Progress(
            label: "events \(corpus)", total: missing.count, unit: "deliveries", style: progressStyle)
        var stored = 0
        try store.queue.write { db in
            let insert = try DeliveryEventRecord.insert(db)
            var start = 0
            while start < missing.count {
                let window = missing[start..<min(start + 4096, missing.count)]
                let bodies = try window.map { delivery in
                    try DeliverySighting.body(db, deliveryId: delivery.deliveryId) ?? []
                }
                let results = IncidentEvents.userMessages(bodies: bodies, incidentIds: window.map(\.incidentId))
                for (delivery, result) in zip(window, results) {
                    guard case .success(let message) = result else { continue }
                    insert.bind(1, delivery.deliveryId)
                    insert.bind(2, delivery.incidentId)
                    insert.bind(3, Int64(encoding))
                    insert.bind(4, message.sha256)
                    try insert.run()
                    stored += 1
                }
                progress.advance(by: window.count)
                start += window.count
            }
        }
        progress.finish(note: "\(stored) user-message digests stored")
        return stored
    }

    /// The digest of each incident's user message (its first delivery's, as the incident replay plans it), in
    /// order: the stored one, or — for an incident without — computed on every core and stored.
    /// - Throws: ``IncidentError``, ``PlannerError/eventNotJSON(incidentId:reason:)``, database errors.
    static func incidents(store: Store, incidentIds: [String]) throws -> [String] {
        let encoding = Planner.userMessageEncoding
        let known = try store.queue.read { db in
            try DeliveryEventRecord.firstDeliveries(db, incidentIds: incidentIds, encoding: encoding)
        }
        let missing = known.indices.filter { known[$0].userSha256 == nil }
        var digests = known.map { $0.userSha256 ?? "" }
        guard !missing.isEmpty else { return digests }
        try store.queue.write { db in
            let insert = try DeliveryEventRecord.insert(db)
            var start = 0
            while start < missing.count {
                let window = missing[start..<min(start + 4096, missing.count)]
                let bodies = try window.map { index in
                    guard let body = try DeliverySighting.body(db, deliveryId: known[index].deliveryId) else {
                        throw IncidentError.unknown(incidentIds[index])
                    }
                    return body
                }
                let results = IncidentEvents.userMessages(bodies: bodies, incidentIds: window.map { incidentIds[$0] })
                for (index, result) in zip(window, results) {
                    let message = try result.get()
                    insert.bind(1, known[index].deliveryId)
                    insert.bind(2, incidentIds[index])
                    insert.bind(3, Int64(encoding))
                    insert.bind(4, message.sha256)
                    try insert.run()
                    digests[index] = message.sha256
                }
                start += window.count
            }
        }
        return digests
    }
}

import Foundation
import GRDB

/// The digests of a corpus's user messages, kept in the store (`deliveryEvent`) so that a rerun finds each
/// planned message's replies without encoding its event again.
///
/// A pipeline replay looks its replies up by the SHA-256 of each delivery's user message (`json.dumps` of its
/// event), and encoding every event of a large corpus is most of a replay's preparation; the digest depends only on
/// the body, the incident id and the encoder (``Planner/userMessageEncoding``), so it is computed once. A
/// recording, or a scenario matching replies by their exact request, still encodes the events it needs as text.
///
/// Beside each digest the delivery's deploy targets are kept (``DeployTimeline/storedText(_:)``): deploy
/// suppression needs them for every message whose decision submits Workflows, and walking the bodies for them was
/// a sixth of a replay's reading.
enum UserMessageDigests {
    /// Computes and stores the digests (and deploy targets) of a corpus's deliveries that have none under the
    /// current encoding, a window of deliveries at a time on every core. A body that is not a JSON event is left
    /// without one: the replay that plans it encodes it again and reports the error.
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
        let results = try store.queue.write { db in try compute(missing, progress: progress, in: db) }
        let stored = results.count { if case .success = $0 { true } else { false } }
        progress.finish(note: "\(stored) user-message digests stored")
        return stored
    }

    /// Whether every delivery of a corpus with an incident has its digest stored (``update(store:corpus:progressStyle:)``
    /// would store none).
    static func stored(store: Store, corpus: String) throws -> Bool {
        try store.queue.read { db in
            try DeliveryEventRecord.missing(db, corpus: corpus, encoding: Planner.userMessageEncoding).isEmpty
        }
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
        let results = try store.queue.write { db in
            try compute(
                missing.map { .init(deliveryId: known[$0].deliveryId, incidentId: incidentIds[$0]) }, progress: nil,
                in: db)
        }
        for (index, result) in zip(missing, results) { digests[index] = try result.get() }
        return digests
    }

    /// Encodes the user message of each delivery as the event of its incident, a window of deliveries at a time
    /// on every core, and stores each digest with the delivery's deploy targets; the digest of each, or why its body
    /// is not a JSON event, in order.
    private static func compute(
        _ deliveries: [DeliveryEventRecord.DeliveryOfIncident], progress: Progress?, in db: Database
    ) throws -> [Result<String, PlannerError>] {
        let encoding = Planner.userMessageEncoding
        let insert = try DeliveryEventRecord.insert(db)
        var digests: [Result<String, PlannerError>] = []
        digests.reserveCapacity(deliveries.count)
        var start = 0
        while start < deliveries.count {
            let window = deliveries[start..<min(start + 4096, deliveries.count)]
            let bodies = try window.map { try DeliverySighting.body(db, deliveryId: $0.deliveryId) ?? [] }
            let results = IncidentEvents.userMessages(bodies: bodies, incidentIds: window.map(\.incidentId))
            let targets = storedTargets(of: bodies)
            for ((delivery, result), targets) in zip(zip(window, results), targets) {
                digests.append(result.map(\.sha256))
                guard case .success(let message) = result else { continue }
                insert.bind(1, delivery.deliveryId)
                insert.bind(2, delivery.incidentId)
                insert.bind(3, Int64(encoding))
                insert.bind(4, message.sha256)
                insert.bind(5, targets)
                try insert.run()
            }
            progress?.advance(by: window.count)
            start += window.count
        }
        return digests
    }

    /// The deploy targets of each body as the store keeps them, in order, on every core.
    private static func storedTargets(of bodies: [[UInt8]]) -> [String] {
        bodies.concurrentMap { DeployTimeline.storedText(DeployTimeline.targets(body: $0)) }
    }
}

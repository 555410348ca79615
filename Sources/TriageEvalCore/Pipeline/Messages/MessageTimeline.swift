import Foundation

/// Why a corpus cannot be replayed message by message.
package enum PipelineError: LocalizedError, Equatable {
    /// Some sightings have no receive time.
    case noReceiveTimes(corpus: String, missing: Int, total: Int, example: String)
    /// The corpus has no deliveries.
    case noMessages(corpus: String)

    package var errorDescription: String? {
        switch self {
        case .noReceiveTimes(let corpus, let missing, let total, let example):
            return """
                corpus '\(corpus)': \(missing) of \(total) deliveries have no receive time (first: \(example)), so \
                they cannot be replayed in time order; record the corpus with `triage-eval capture`, or put a \
                sidecar beside each JSON Lines file (NAME.headers.jsonl: line N holds {"recv_unix": SECONDS} of \
                line N), or leave out the scenario's pipeline: section
                """
        case .noMessages(let corpus):
            return "corpus '\(corpus)' has no deliveries to replay"
        }
    }
}

/// A corpus's messages in receive order, each with its kind: what production's bus carried.
package enum MessageTimeline {
    /// Orders sightings by receive time (ties in the order they were stored) and gives each its kind: the
    /// incident's first message in time is `first`, a sighting of a delivery the incident already had is
    /// `repeat`, another firing body is `update`, and every resolved body is `resolved`.
    /// - Parameters:
    ///   - sightings: every sighting of the corpus's deliveries (``DeliverySighting/all(_:corpus:)``).
    ///   - corpus: the corpus's name, for errors.
    ///   - timeScale: how many times fast the corpus's clock ran when it was recorded.
    /// - Throws: ``PipelineError`` when a sighting has no receive time, or there is none.
    package static func messages(
        _ sightings: [DeliverySighting], corpus: String, timeScale: Double
    ) throws -> [Message] {
        let untimed = sightings.filter { $0.receivedAt == nil }
        if let first = untimed.first {
            throw PipelineError.noReceiveTimes(
                corpus: corpus, missing: untimed.count, total: sightings.count, example: first.source)
        }
        guard !sightings.isEmpty else { throw PipelineError.noMessages(corpus: corpus) }
        let ordered = sightings.sorted {
            ($0.receivedAt!, $0.ingestOrder) < ($1.receivedAt!, $1.ingestOrder)
        }
        let origin = ordered[0].receivedAt!
        var seenDeliveries = Set<Int64>()
        var openedIncidents = Set<String>()
        var messages: [Message] = []
        messages.reserveCapacity(ordered.count)
        for sighting in ordered {
            let kind: MessageKind
            if sighting.status == "resolved" {
                kind = .resolved
            } else if seenDeliveries.contains(sighting.deliveryId) {
                kind = .repeat
            } else if let incident = sighting.incidentId, !openedIncidents.contains(incident) {
                kind = .first
            } else {
                kind = .update
            }
            seenDeliveries.insert(sighting.deliveryId)
            if let incident = sighting.incidentId { openedIncidents.insert(incident) }
            let receivedAt = sighting.receivedAt!
            messages.append(
                Message(
                    seq: messages.count, deliveryId: sighting.deliveryId, source: sighting.source,
                    receivedAt: receivedAt, productionTime: origin + (receivedAt - origin) * timeScale,
                    incidentId: sighting.incidentId, kind: kind))
        }
        return messages
    }
}

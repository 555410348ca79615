import Foundation
import GRDB

/// Errors finding a stored incident.
package enum IncidentError: LocalizedError, Equatable {
    case unknown(String)

    package var errorDescription: String? {
        switch self {
        case .unknown(let id): return "no incident '\(id)' in the store"
        }
    }
}

/// The events of stored incidents: what production's planner is shown.
package enum IncidentEvents {
    /// The event of an incident: its first delivery's body with `"incident_id"` inserted as the first key.
    /// - Throws: ``IncidentError/unknown(_:)``.
    package static func event(store: Store, incidentId: String) throws -> [UInt8] {
        guard let body = try store.queue.read({ db in try IncidentRecord.firstBody(db, id: incidentId) }) else {
            throw IncidentError.unknown(incidentId)
        }
        return body.withUnsafeBufferPointer { DeliveryWriter.event(body: $0, incidentId: incidentId) }
    }

    /// The user messages of many incidents, in their order, each with its SHA-256 (hex): their first bodies read
    /// in one transaction, the messages and digests computed on every core — a run's per-incident preparation.
    /// - Throws: ``IncidentError``, or ``PlannerError/eventNotJSON(incidentId:reason:)`` (the first in order).
    package static func userMessages(store: Store, incidentIds: [String]) throws -> [(user: String, sha256: String)] {
        let bodies = try store.queue.read { db in
            try incidentIds.map { id in
                guard let body = try IncidentRecord.firstBody(db, id: id) else { throw IncidentError.unknown(id) }
                return body
            }
        }
        return try userMessages(bodies: bodies, incidentIds: incidentIds).map { try $0.get() }
    }

    /// The user message and its SHA-256 (hex) of each body as the event of the incident at the same index,
    /// computed on every core: encoding events is most of the time a run or a pipeline replay prepares.
    package static func userMessages(
        bodies: [[UInt8]], incidentIds: [String]
    ) -> [Result<(user: String, sha256: String), PlannerError>] {
        Array(bodies.indices).concurrentMap { index in
            let incidentId = incidentIds[index]
            let event = bodies[index].withUnsafeBufferPointer { DeliveryWriter.event(body: $0, incidentId: incidentId) }
            do {
                let user = try Planner.userMessage(eventJSON: event)
                return .success((user, Digest.sha256Hex(user)))
            } catch {
                return .failure(PlannerError.eventNotJSON(incidentId: incidentId, reason: String(describing: error)))
            }
        }
    }

    /// The user message production sends for an incident: `json.dumps(event)`.
    /// - Throws: ``IncidentError``, or ``PlannerError/eventNotJSON(incidentId:reason:)``.
    package static func userMessage(store: Store, incidentId: String) throws -> String {
        let event = try event(store: store, incidentId: incidentId)
        do {
            return try Planner.userMessage(eventJSON: event)
        } catch {
            throw PlannerError.eventNotJSON(incidentId: incidentId, reason: error.description)
        }
    }
}

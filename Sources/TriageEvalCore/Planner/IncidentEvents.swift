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

/// What a message is to the incident it belongs to.
package enum MessageKind: String, Sendable, Codable, CaseIterable, Comparable {
    /// The first firing delivery of an incident (it opens it).
    case first
    /// Byte for byte a delivery the incident had before: Alertmanager's `repeat_interval`, or a retry.
    case `repeat`
    /// A firing delivery whose body changed (an alert joined or left the group, or its annotations changed).
    case update
    /// A resolved notification (`send_resolved: true`).
    case resolved

    /// The kind of a sighting: every resolved body is `resolved`; a sighting of a delivery its incident already
    /// had is a `repeat`; the first message of an incident (in time) is `first`, any other firing body an `update`.
    /// - Parameters:
    ///   - status: the delivery's status.
    ///   - deliverySeen: whether the delivery was sighted before.
    ///   - opensIncident: whether no earlier message belongs to its incident (false without an incident).
    package init(status: String, deliverySeen: Bool, opensIncident: Bool) {
        if status == "resolved" {
            self = .resolved
        } else if deliverySeen {
            self = .repeat
        } else if opensIncident {
            self = .first
        } else {
            self = .update
        }
    }

    package static func < (lhs: MessageKind, rhs: MessageKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One message on production's bus: one sighting of a stored delivery (its first, or a repeat), at its receive
/// time.
package struct Message: Sendable, Equatable {
    /// Its position in receive order, from 0.
    package var seq: Int
    /// The delivery whose body it carries.
    package var deliveryId: Int64
    /// Where this sighting was read (`path:line`, or capture's source).
    package var source: String
    /// When it was received (Unix seconds, as recorded).
    package var receivedAt: Double
    /// The same instant in production time: the corpus's first message plus the recorded offset × its time scale.
    package var productionTime: Double
    /// Its incident; nil for a resolved delivery that no open incident took (the corpus starts mid-incident).
    package var incidentId: String?
    /// What it is to its incident.
    package var kind: MessageKind
}

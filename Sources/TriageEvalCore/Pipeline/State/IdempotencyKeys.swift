import Foundation

/// The seed's idempotency: `SET remediation:{incident_id}:{action} running NX EX 1800` when a workflow starts,
/// never deleted — a cooldown from the workflow's start, not a lock.
///
/// Redis answers `OK` only when the key does not exist, and a key set with `EX ttl` at time t exists while the
/// clock reads at most t + ttl (`keyIsExpired` in Redis' `db.c` expires a key only once `now > when`). The key's
/// `incident_id` is the one the Sensor passed, i.e. the model's: a model that reuses an id ("INC-1") makes one
/// incident's workflow find the key another incident set.
///
/// A value type stepped by the replay clock: ``setIfAbsent(_:at:incident:)`` is the `SET NX EX` call.
package struct IdempotencyKeys: Sendable {
    /// Where the check sits in the user's WorkflowTemplates.
    package enum Mode: String, Sendable, CaseIterable {
        /// The check gates the workflow, as the seed intends ("already in progress, exiting"): a workflow that
        /// finds its key does not run its action.
        case gate
        /// The check is a step of its own: its `exit 0` succeeds and the later steps still run, so nothing is
        /// prevented (the key is still set and counted).
        case step
        /// No check at all.
        case off
    }

    /// Who set a key, and until when it exists.
    package struct Holder: Sendable, Equatable {
        /// When it was set (production time, Unix seconds).
        package var setAt: Double
        /// The incident whose workflow set it (the event's, not the model's id).
        package var incidentId: String
        /// The last instant it exists: setAt + ttl.
        package var expiresAt: Double

        package init(setAt: Double, incidentId: String, expiresAt: Double) {
            self.setAt = setAt
            self.incidentId = incidentId
            self.expiresAt = expiresAt
        }
    }

    /// What a `SET NX EX` call found.
    package enum Result: Sendable, Equatable {
        /// `OK`: the key was set. `expired` is the holder of an earlier key that had expired by then (the workflow
        /// re-executes after the cooldown), nil for a key never set before.
        case set(expired: Holder?)
        /// `nil`: the key exists, set by `holder`.
        case held(by: Holder)
    }

    /// The key template: `{incident_id}` and `{action}` are replaced.
    package var template: String
    /// Seconds a key lives.
    package var ttl: Double
    /// Every key ever set, with its last holder: an expired key is kept to name a re-execution after expiry
    /// (``Result/set(expired:)``). There is one per distinct (incident id, action) that ever ran.
    private var keys: [String: Holder] = [:]

    /// The seed's: `remediation:{incident_id}:{action}`, 1800 s.
    package static let seedTemplate = "remediation:{incident_id}:{action}"
    package static let seedTTL: Double = 1800

    package init(template: String = seedTemplate, ttl: Double = seedTTL) {
        self.template = template
        self.ttl = ttl
        // The template split once into literal text and placeholders (a key is built for every Workflow).
        var parts: [Part] = []
        var rest = Substring(template)
        while true {
            let incident = rest.range(of: "{incident_id}")
            let action = rest.range(of: "{action}")
            guard let range = [incident, action].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else {
                break
            }
            if range.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<range.lowerBound]))) }
            parts.append(range == action ? .action : .incident)
            rest = rest[range.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    private enum Part: Sendable {
        case text(String)
        case incident
        case action
    }

    private let parts: [Part]

    /// The key of a workflow, as the seed's entrypoint builds it from `INCIDENT_ID` and `ACTION_NAME`.
    package func key(incidentId: String, action: String) -> String {
        var key = ""
        for part in parts {
            switch part {
            case .text(let text): key += text
            case .incident: key += incidentId
            case .action: key += action
            }
        }
        return key
    }

    /// `SET key running NX EX ttl` at `time` by a workflow of `incident` (the event's incident).
    package mutating func setIfAbsent(_ key: String, at time: Double, incident: String) -> Result {
        let previous = keys[key]
        if let previous, time <= previous.expiresAt { return .held(by: previous) }
        keys[key] = Holder(setAt: time, incidentId: incident, expiresAt: time + ttl)
        return .set(expired: previous)
    }
}

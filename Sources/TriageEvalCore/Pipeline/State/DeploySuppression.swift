/// The seed's deploy suppression: "if your CI marks a deployment as in-progress, your Sensor should refuse to act
/// on alerts from that service for 10 minutes" — at the Sensor, when a decision's Workflow would be submitted.
///
/// A deploy matches an alert by ``DeployTimeline/matches(_:_:)`` (its `service` label, else `namespace` +
/// `deployment`). The window where it suppresses is anchored at the deploy's start or its end:
/// - `start` (the seed): `[start, start + window)` — from when CI marks the deploy in progress;
/// - `end`: `[start, end + window)` — while it is in progress, and for `window` after it ends.
///
/// Whatever the setting, a Workflow that runs inside `[start, end + window)` of a matching deploy ran during a
/// deploy (``Harm/duringDeploy``): that is what suppression, as configured, missed.
package struct DeploySuppression: Sendable, Equatable {
    package enum Anchor: String, Sendable, CaseIterable {
        case start
        case end
    }

    package var timeline: DeployTimeline
    /// Seconds.
    package var window: Double
    package var anchor: Anchor
    /// Whether the Sensor refuses (off: deploys are only used to flag runs during them).
    package var suppress: Bool

    /// The seed's window: 10 minutes.
    package static let seedWindow: Double = 600

    package init(timeline: DeployTimeline, window: Double = seedWindow, anchor: Anchor = .start, suppress: Bool = true)
    {
        self.timeline = timeline
        self.window = window
        self.anchor = anchor
        self.suppress = suppress
    }

    /// Where a deploy suppresses.
    package func suppressionWindow(_ deploy: DeployTimeline.Deploy) -> DeployTimeline.ClosedOpenWindow {
        switch anchor {
        case .start: return .init(from: deploy.start, until: deploy.start + window)
        case .end: return .init(from: deploy.start, until: deploy.end + window)
        }
    }

    /// Where a run counts as during the deploy.
    package func activityWindow(_ deploy: DeployTimeline.Deploy) -> DeployTimeline.ClosedOpenWindow {
        .init(from: deploy.start, until: deploy.end + window)
    }

    /// The deploy that suppresses a Workflow of an alert with these targets at `time` (nil: none, or suppression
    /// is off).
    package func suppressing(_ targets: [DeployTimeline.Target], at time: Double) -> Int? {
        guard suppress else { return nil }
        return timeline.first(matching: targets, at: time, window: suppressionWindow)
    }

    /// The deploy a Workflow of an alert with these targets that starts at `time` runs during.
    package func activity(_ targets: [DeployTimeline.Target], at time: Double) -> Int? {
        timeline.first(matching: targets, at: time, window: activityWindow)
    }
}

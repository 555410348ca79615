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
        // Every window (either kind) lies within [start, end + window): their union, merged and sorted.
        var merged: [DeployTimeline.ClosedOpenWindow] = []
        for deploy in timeline.deploys {
            let span = DeployTimeline.ClosedOpenWindow(from: deploy.start, until: deploy.end + window)
            if let last = merged.last, span.from <= last.until {
                merged[merged.count - 1].until = max(last.until, span.until)
            } else {
                merged.append(span)
            }
        }
        open = merged
    }

    /// The union of the deploys' windows, sorted (the deploys are sorted by start).
    private var open: [DeployTimeline.ClosedOpenWindow] = []

    /// Whether any deploy's window holds `time`: when none does, no alert's targets need reading.
    package func anyWindowOpen(at time: Double) -> Bool {
        // The last merged window starting at or before `time`.
        var low = 0
        var high = open.count
        while low < high {
            let middle = (low + high) / 2
            if open[middle].from <= time { low = middle + 1 } else { high = middle }
        }
        return low > 0 && open[low - 1].contains(time)
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

import DequeModule

/// Bounded parallelism across remediations: how many Workflows run at once, and who waits.
///
/// `spec.parallelism` inside a Workflow bounds only its own pods, and each remediation is its own Workflow, so the
/// bound that matters is the controller's `parallelism` (``limit``) — and, optionally, a semaphore per namespace the
/// remediations act in (``namespaceLimit``: Argo's `synchronization.semaphore` with a key per target namespace;
/// Argo's own `namespaceParallelism` counts the Workflow's namespace, which is the same for every remediation a
/// Sensor submits into one namespace). A Workflow over a limit stays Pending; Pending Workflows start in creation
/// order (equal priority), a Workflow held only by its namespace's limit letting a later one of another namespace
/// start (`docs/parallelism.md`, `docs/synchronization.md`).
///
/// A value type the replay steps: ``enqueue(_:namespace:)`` when a Workflow is created, ``admit()`` after anything
/// that may free a slot, ``finished(namespace:)`` when one ends. It holds no clock: the replay starts what
/// ``admit()`` returns at the current instant.
package struct WorkflowQueue<Item: Sendable>: Sendable {
    /// Workflows running at once, nil for no limit (the controller's default).
    package var limit: Int?
    /// Workflows running at once per target namespace, nil for no limit.
    package var namespaceLimit: Int?

    private var waiting = Deque<(item: Item, namespace: String)>()
    private(set) package var running = 0
    private var runningIn: [String: Int] = [:]

    package init(limit: Int? = nil, namespaceLimit: Int? = nil) {
        self.limit = limit
        self.namespaceLimit = namespaceLimit
    }

    /// Workflows waiting (Pending).
    package var queued: Int { waiting.count }

    /// A created Workflow joins the end of the queue.
    package mutating func enqueue(_ item: Item, namespace: String) {
        waiting.append((item, namespace))
    }

    /// The Workflows that can start now, in creation order, each counted as running.
    package mutating func admit() -> [Item] {
        var started: [Item] = []
        var index = 0
        while index < waiting.count {
            if let limit, running >= limit { break }
            let namespace = waiting[index].namespace
            if let namespaceLimit, runningIn[namespace, default: 0] >= namespaceLimit {
                index += 1
                continue
            }
            started.append(waiting.remove(at: index).item)
            running += 1
            runningIn[namespace, default: 0] += 1
        }
        return started
    }

    /// A running Workflow ended: its slot is free.
    package mutating func finished(namespace: String) {
        running -= 1
        if let count = runningIn[namespace] {
            runningIn[namespace] = count > 1 ? count - 1 : nil
        }
    }
}

import DequeModule
import HeapModule

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
/// ``admit()`` returns at the current instant. Each namespace keeps its own FIFO, and the namespaces that may start
/// one are ordered by their oldest Workflow, so an overloaded queue costs O(log n) per Workflow, not a scan.
package struct WorkflowQueue<Item: Sendable>: Sendable {
    /// Workflows running at once, nil for no limit (the controller's default).
    package var limit: Int?
    /// Workflows running at once per target namespace, nil for no limit.
    package var namespaceLimit: Int?

    private struct Waiting: Sendable {
        var item: Item
        var order: Int
    }

    /// A namespace that may start its oldest Workflow, by that Workflow's creation order.
    private struct Ready: Comparable, Sendable {
        var order: Int
        var namespace: String

        static func < (lhs: Ready, rhs: Ready) -> Bool { lhs.order < rhs.order }
    }

    private var waiting: [String: Deque<Waiting>] = [:]
    private var ready = Heap<Ready>()
    private var created = 0
    private(set) package var queued = 0
    private(set) package var running = 0
    private var runningIn: [String: Int] = [:]

    package init(limit: Int? = nil, namespaceLimit: Int? = nil) {
        self.limit = limit
        self.namespaceLimit = namespaceLimit
    }

    private func hasRoom(_ namespace: String) -> Bool {
        namespaceLimit.map { runningIn[namespace, default: 0] < $0 } ?? true
    }

    /// A created Workflow joins the end of its namespace's queue.
    package mutating func enqueue(_ item: Item, namespace: String) {
        let entry = Waiting(item: item, order: created)
        created += 1
        queued += 1
        if waiting[namespace, default: []].isEmpty, hasRoom(namespace) {
            ready.insert(Ready(order: entry.order, namespace: namespace))
        }
        waiting[namespace, default: []].append(entry)
    }

    /// The Workflows that can start now, in creation order, each counted as running.
    package mutating func admit() -> [Item] {
        var started: [Item] = []
        while limit.map({ running < $0 }) ?? true, let next = ready.popMin() {
            let namespace = next.namespace
            let entry = waiting[namespace]!.removeFirst()
            queued -= 1
            running += 1
            runningIn[namespace, default: 0] += 1
            started.append(entry.item)
            if let head = waiting[namespace]!.first {
                if hasRoom(namespace) { ready.insert(Ready(order: head.order, namespace: namespace)) }
            } else {
                waiting[namespace] = nil
            }
        }
        return started
    }

    /// A running Workflow ended: its slot is free.
    package mutating func finished(namespace: String) {
        running -= 1
        let count = runningIn[namespace] ?? 0
        runningIn[namespace] = count > 1 ? count - 1 : nil
        // Its namespace had reached its limit: its oldest Workflow may start again.
        if let namespaceLimit, count == namespaceLimit, let head = waiting[namespace]?.first {
            ready.insert(Ready(order: head.order, namespace: namespace))
        }
    }
}

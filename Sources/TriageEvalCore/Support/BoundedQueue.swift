import Foundation

/// A first-in, first-out queue between two threads that blocks the producer when full and the consumer when
/// empty, so a fast reader never holds more than `capacity` items in memory.
///
/// Ingest's hand-off from its file-reading thread to its SQLite writer, which holds one write connection for the
/// whole ingest and commits every 5,000 units: both sides block (on `read(2)`, on SQLite), so they are OS threads,
/// never cooperative ones, and the hand-off needs waiting, which `Mutex` cannot do — hence `NSCondition`, which
/// guards every member (so `@unchecked Sendable`).
package final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Waiting items from `head` on; a taken one is set to nil at once, so that the queue never keeps it alive.
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private var closed = false

    /// Creates a queue holding at most `capacity` items.
    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds an item, waiting while the queue is full. Returns false if the consumer has closed the queue.
    @discardableResult
    package func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Takes the next item, waiting while the queue is empty; nil once it is closed and drained.
    package func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// Closes the queue: the producer's next `put` fails, and the consumer gets nil after the remaining items.
    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

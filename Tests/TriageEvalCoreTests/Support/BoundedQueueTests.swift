import Foundation
import Testing
import TriageEvalCore

/// The hand-off between a producing thread and its consumer.
@Suite struct BoundedQueueTests {
    final class Item: Sendable {
        let number: Int
        init(_ number: Int) { self.number = number }
    }

    /// An item the consumer took is not kept alive by the queue: a producer of large batches (the pipeline
    /// replay's rows) holds at most `capacity` of them, not every batch since the queue's last compaction.
    @Test func aTakenItemIsLetGo() {
        let queue = BoundedQueue<Item>(capacity: 4)
        weak var first: Item?
        do {
            let item = Item(0)
            first = item
            #expect(queue.put(item))
        }
        #expect(queue.put(Item(1)))
        #expect(queue.take()?.number == 0)
        #expect(first == nil)
        #expect(queue.take()?.number == 1)
    }

    /// Items come out in order across threads, the producer waiting while the queue is full; a closed queue
    /// refuses more and drains what it holds.
    @Test func itemsComeOutInOrderAndCloseEndsIt() {
        let queue = BoundedQueue<Item>(capacity: 2)
        DispatchQueue.global().async {
            for number in 0..<1000 { _ = queue.put(Item(number)) }
            queue.close()
        }
        var numbers: [Int] = []
        while let item = queue.take() { numbers.append(item.number) }
        #expect(numbers == Array(0..<1000))
        #expect(!queue.put(Item(1000)))
        #expect(queue.take() == nil)
    }
}

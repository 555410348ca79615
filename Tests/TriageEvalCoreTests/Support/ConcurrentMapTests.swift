import Testing
import TriageEvalCore

/// `concurrentMap` is `map`: the same elements in the same order, whatever the number of threads.
@Suite struct ConcurrentMapTests {
    @Test(arguments: [0, 1, 2, 3, 4_097])
    func itIsMapInOrder(count: Int) {
        let input = Array(0..<count)
        // Uneven work (a long string for every seventh element) must not reorder anything.
        let transform: @Sendable (Int) -> String = {
            $0 % 7 == 0 ? String(repeating: "x", count: 1_000) + "\($0)" : "\($0)"
        }
        #expect(input.concurrentMap(transform) == input.map(transform))
    }
}

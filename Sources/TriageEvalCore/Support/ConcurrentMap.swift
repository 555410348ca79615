import Foundation

extension Array where Element: Sendable {
    /// `map` on every core: element i of the result is `transform(self[i])`, in order. Each thread takes the
    /// indices `thread, thread + threads, …`, so that uneven elements spread out evenly; for the CPU-bound work of
    /// a window of bodies or replies (parsing, encoding), never for work that blocks.
    package func concurrentMap<T: Sendable>(_ transform: @Sendable (Element) -> T) -> [T] {
        var results = [T?](repeating: nil, count: count)
        let threads = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, count))
        results.withUnsafeMutableBufferPointer { buffer in
            // Each thread writes its own indices only.
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var index = thread
                while index < count {
                    output[index] = transform(self[index])
                    index += threads
                }
            }
        }
        return results.map { $0! }
    }
}

import Foundation
import Synchronization

/// Work started on a thread of its own while the caller goes on; ``value()`` waits for its result.
///
/// A dispatch queue's thread, not a `Thread`: a thread of our own that used libdispatch (GRDB's queues do) can crash
/// in libdispatch's thread-local cleanup when it exits (swift-corelibs-libdispatch on Linux). For blocking or
/// CPU-bound work that takes seconds (a report's scan of a table), not for many small pieces.
package final class BackgroundWork<Value: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Value, any Error>?>(nil)

    /// Starts `work` at once.
    /// - Parameters:
    ///   - label: names the thread (in a debugger or a profile).
    ///   - work: what to do; what it throws comes out of ``value()``.
    package init(label: String, _ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue(label: label).async { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            finished.signal()
        }
    }

    /// Waits for the work to end and returns what it returned, or throws what it threw.
    package func value() throws -> Value {
        finished.wait()
        finished.signal()  // for a later call
        return try result.withLock { $0! }.get()
    }
}

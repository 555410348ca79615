import Synchronization

/// The error a producing thread ran into, handed to the thread that consumes its work (ingest's file reader,
/// the pipeline replay's message reader).
final class ThreadFailure: Sendable {
    private let stored = Mutex<(any Error)?>(nil)

    var error: (any Error)? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

import Foundation
import Testing
import TriageEvalCore

/// `BackgroundWork`: the work runs while the caller goes on, and `value()` gives its result or its error.
@Suite struct BackgroundWorkTests {
    private struct Failed: Error, Equatable {}

    @Test func theWorkRunsWhileTheCallerGoesOnAndItsValueComesBack() throws {
        // The work waits for the caller: it can only finish if it runs on another thread meanwhile.
        let callerWent = DispatchSemaphore(value: 0)
        let work = BackgroundWork(label: "test") { () -> Int in
            callerWent.wait()
            return 42
        }
        callerWent.signal()
        #expect(try work.value() == 42)
        // A second call gives the same value, without waiting for anything.
        #expect(try work.value() == 42)
    }

    @Test func whatTheWorkThrowsComesOutOfValue() {
        let work = BackgroundWork<Int>(label: "test") { throw Failed() }
        #expect(throws: Failed.self) { try work.value() }
    }
}

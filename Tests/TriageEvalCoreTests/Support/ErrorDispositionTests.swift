import Foundation
import GRDB
import Testing
import TriageEvalCore

/// Which errors are the user's to fix (exit 2) and which are triage-eval's bugs (exit 70).
@Suite struct ErrorDispositionTests {
    @Test func domainErrorsAreSetUpErrors() {
        let config = ConfigError(file: "s.yaml", line: 3, keyPath: "model", message: "unknown key")
        #expect(ErrorDisposition.classify(config) == .setUp(config.errorDescription!))
        #expect(ErrorDisposition.classify(RunError.unknownRun("r")) == .setUp("no run 'r' in the store"))
        let input = InputError.notJSON(path: "e.json", reason: "x")
        #expect(ErrorDisposition.classify(input) == .setUp("e.json: not JSON: x"))
    }

    @Test func aConstraintFailureIsInternal() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY)") }
        var caught: (any Error)?
        do {
            try queue.write { db in try db.execute(sql: "INSERT INTO t (id) VALUES (1), (1)") }
        } catch {
            caught = error
        }
        let disposition = ErrorDisposition.classify(try #require(caught))
        guard case .internal(let message) = disposition else {
            Issue.record("expected an internal error, got \(disposition)")
            return
        }
        #expect(message.contains("UNIQUE constraint failed"))
        #expect(disposition.message.hasPrefix("internal error: "))
        #expect(disposition.message.contains("This is a bug in triage-eval"))
    }

    @Test func aStoreTheEnvironmentBlocksIsASetUpError() {
        let busy = DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked")
        #expect(ErrorDisposition.classify(busy, storePath: nil) == .setUp("the store: database is locked"))
        // A SQLite error names no file: the message names the store, and for a read-only one what to check.
        let readonly = DatabaseError(resultCode: .SQLITE_READONLY, message: "attempt to write a readonly database")
        #expect(
            ErrorDisposition.classify(readonly, storePath: "/data/h.sqlite")
                == .setUp(
                    "the store /data/h.sqlite: attempt to write a readonly database (check the permissions of the "
                        + "file, its -wal and -shm files and their folder)"))
    }

    @Test func aFileThatCannotBeWrittenIsASetUpError() {
        let error = CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: "/r/report.md"])
        guard case .setUp(let message) = ErrorDisposition.classify(error) else {
            Issue.record("expected a set-up error")
            return
        }
        #expect(message.hasPrefix("/r/report.md: "))
    }

    @Test func anythingElseIsInternal() {
        struct Unexpected: Error {}
        #expect(ErrorDisposition.classify(Unexpected()) == .internal("Unexpected()"))
    }
}

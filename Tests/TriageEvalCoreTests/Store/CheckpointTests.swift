import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// `Store.checkpoint(during:)`: the write-ahead log is copied into the file while other work reads the store, and
/// the file alone then holds everything — whether that work succeeds or throws.
@Suite struct CheckpointTests {
    private struct Failed: Error {}

    /// A store whose last commit (`rows` rows in `corpusFileStat`) is still only in its log.
    private static func storeWithAnUncopiedLog(_ temp: TemporaryDirectory, rows: Int) throws -> Store {
        let store = try Store(path: temp.file("s.sqlite"))
        try store.queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.inTransaction {
                for index in 0..<rows {
                    try db.execute(
                        sql: """
                            INSERT INTO corpusFileStat (path, size, modifiedNs, inode, sha256, computedAt)
                            VALUES (?, ?, 0, 0, ?, 't')
                            """, arguments: ["f\(index)", index, String(repeating: "a", count: 64)])
                }
                return .commit
            }
        }
        return store
    }

    /// How many rows the main file holds when it is copied without its log (as a shard's store is); nil when it
    /// does not even hold the table yet.
    private static func rowsInTheFileAlone(_ temp: TemporaryDirectory) throws -> Int? {
        let copy = temp.file("copy.sqlite")
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: temp.file("s.sqlite"), toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        return try queue.read { db in
            guard try db.tableExists("corpusFileStat") else { return nil }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM corpusFileStat")
        }
    }

    private static func logSize(_ temp: TemporaryDirectory) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: temp.file("s.sqlite-wal")))?[.size] as? Int) ?? 0
    }

    @Test func theLogIsCopiedWhileTheWorkReadsAndTheFileAloneThenHoldsEverything() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Self.storeWithAnUncopiedLog(temp, rows: 5_000)
        #expect(Self.logSize(temp) > 0)
        #expect(try Self.rowsInTheFileAlone(temp) == nil)
        // The work reads the store (as a run's reports do) while the log is being copied.
        let read = try store.checkpoint {
            try store.queue.read { try Int.fetchOne($0, sql: "SELECT sum(size) FROM corpusFileStat") }
        }
        #expect(read == 4_999 * 5_000 / 2)
        #expect(Self.logSize(temp) == 0)
        #expect(try Self.rowsInTheFileAlone(temp) == 5_000)
    }

    @Test func workThatThrowsStillLeavesTheFileWholeAndItsErrorComesOut() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Self.storeWithAnUncopiedLog(temp, rows: 100)
        #expect(try Self.rowsInTheFileAlone(temp) == nil)
        #expect(throws: Failed.self) { try store.checkpoint { throw Failed() } }
        #expect(try Self.rowsInTheFileAlone(temp) == 100)
    }

    /// A commit longer than SQLite's automatic checkpoint (1000 pages of 16 KiB), then a small one, as a run's
    /// replay and then its completion are; returns the rows the file alone holds after them.
    private static func bulkWriteThenASmallOne(_ temp: TemporaryDirectory, suspended: Bool) throws -> (Store, Int?) {
        let store = try Store(path: temp.file("s.sqlite"))
        let text = String(repeating: "a", count: 20_000)
        try store.queue.writeWithoutTransaction { db in
            if suspended { try Store.suspendAutomaticCheckpoints(db) }
            try db.inTransaction {
                for index in 0..<1_200 {
                    try db.execute(
                        sql: """
                            INSERT INTO corpusFileStat (path, size, modifiedNs, inode, sha256, computedAt)
                            VALUES (?, ?, 0, 0, ?, 't')
                            """, arguments: ["f\(index)", index, text])
                }
                return .commit
            }
        }
        try store.queue.write { db in
            try db.execute(sql: "UPDATE corpusFileStat SET computedAt = 'u' WHERE path = 'f0'")
        }
        return (store, try rowsInTheFileAlone(temp))
    }

    @Test func aSmallCommitAfterABulkWriteCopiesTheLogUnlessCheckpointsAreSuspended() throws {
        let plain = try TemporaryDirectory()
        defer { plain.remove() }
        // SQLite's automatic checkpoint: the small commit copies the whole log on its own thread.
        #expect(try Self.bulkWriteThenASmallOne(plain, suspended: false).1 == 1_200)

        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (store, before) = try Self.bulkWriteThenASmallOne(temp, suspended: true)
        #expect(before == nil)
        #expect(Self.logSize(temp) > 1_000 * 16_384)
        try store.checkpoint()
        #expect(try Self.rowsInTheFileAlone(temp) == 1_200)
        #expect(Self.logSize(temp) == 0)
        // The checkpoint turned the automatic one back on.
        #expect(try store.queue.read { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == 1_000)
    }

    /// A reader that scans (a report's sections, three at once) gets a small page cache; one that looks things up,
    /// and the store's own connection, the large one.
    @Test func aScanningReaderHasASmallPageCache() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Store(path: temp.file("s.sqlite"))
        func cacheKiB(_ queue: DatabaseQueue?) throws -> Int? {
            try queue?.read { try Int.fetchOne($0, sql: "PRAGMA cache_size") }.map { -$0 }
        }
        #expect(try cacheKiB(store.queue) == 65_536)
        #expect(try cacheKiB(store.reader()) == 65_536)
        #expect(try cacheKiB(store.reader(cacheKiB: Store.scanCacheKiB)) == 8_192)
        #expect(try Store(path: ":memory:").reader() == nil)
    }

    @Test func anInMemoryStoreJustDoesTheWork() throws {
        let store = try Store(path: ":memory:")
        #expect(try store.checkpoint { 7 } == 7)
    }
}

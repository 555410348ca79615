import Foundation
import GRDB
import Synchronization

/// Errors opening or migrating the store.
package enum StoreError: LocalizedError, Equatable {
    case cannotOpen(path: String, reason: String)
    case newerSchema(path: String, migration: String)
    case notCheckpointed(path: String)

    package var errorDescription: String? {
        switch self {
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open the SQLite store: \(reason)"
        case .newerSchema(let path, let migration):
            return "\(path): made by a newer triage-eval (unknown migration '\(migration)'); upgrade triage-eval"
        case .notCheckpointed(let path):
            return "\(path): another connection kept the write-ahead log (\(path)-wal) from being copied into the "
                + "file; the file alone does not hold the run yet (keep the -wal file beside it)"
        }
    }
}

/// The SQLite file that holds everything: deliveries, incidents, catalogs, labels, replies, runs and results.
///
/// One file per project (default `./triage-eval.sqlite`). Writes go through one serial connection; the schema is
/// changed only by the named migrations of ``Store/migrator``, which are never edited once shipped.
package final class Store: Sendable {
    /// The default path, relative to the working directory.
    package static let defaultPath = "triage-eval.sqlite"
    /// The environment variable that overrides the default path.
    package static let environmentVariable = "TRIAGE_EVAL_DB"

    /// The path of the file.
    package let path: String
    /// The path of the store this process opened last: a SQLite error (read-only, full, busy) names no file, so
    /// its message names this one.
    package static let lastOpened = Mutex<String?>(nil)
    /// The connection.
    package let queue: DatabaseQueue

    /// Opens (creating if needed) and migrates the store.
    /// - Parameter path: the file; `:memory:` for a throw-away store.
    /// - Throws: ``StoreError``.
    package init(path: String) throws {
        self.path = path
        Self.lastOpened.withLock { $0 = path }
        let configuration = Self.configuration(readonly: false)
        do {
            // A store in a folder that does not exist yet (a fresh volume's `shards/`) gets the folder.
            let folder = (path as NSString).deletingLastPathComponent
            if path != ":memory:", !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            if path == ":memory:" {
                queue = try DatabaseQueue(configuration: configuration)
            } else {
                queue = try DatabaseQueue(path: path, configuration: configuration)
            }
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
        let migrator = Store.migrator
        let known = Set(migrator.migrations)
        let applied = try queue.read { try migrator.appliedIdentifiers($0) }
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StoreError.newerSchema(path: path, migration: unknown)
        }
        do {
            try migrator.migrate(queue)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "migration failed: \(error)")
        }
    }

    /// The page cache of the store's connection and of a reader that looks things up: 64 MiB.
    package static let lookupCacheKiB = 65_536
    /// The page cache of a reader that scans a table once (a report's section, a census): 8 MiB. What it reads it
    /// does not read again, and a report has three such readers at once.
    package static let scanCacheKiB = 8_192

    private static func configuration(readonly: Bool, cacheKiB: Int = lookupCacheKiB) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readonly
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            if db.configuration.readonly == false {
                // Bodies are a few KiB each: 16 KiB pages keep most of them out of overflow chains. Only a new,
                // empty file takes this; an existing one keeps its page size.
                try db.execute(sql: "PRAGMA page_size = 16384")
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            // A 64 MiB page cache and memory-mapped reads keep the dedupe and incident lookups off the disk.
            // The map asks for 8 GiB and gets SQLite's own limit (2 GiB in Debian's build): a replay reads most
            // of a large store, and each read past the map is a copy out of the page cache.
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            try db.execute(sql: "PRAGMA mmap_size = 8589934592")
        }
        return configuration
    }

    /// A second, read-only connection to the file, for a reader on another thread while ``queue`` writes (WAL
    /// lets it read the last commit meanwhile); nil for an in-memory store, which no other connection sees.
    /// - Parameter cacheKiB: its page cache: ``lookupCacheKiB``, or ``scanCacheKiB`` for a reader that scans.
    /// - Throws: ``StoreError/cannotOpen(path:reason:)``.
    package func reader(cacheKiB: Int = lookupCacheKiB) throws -> DatabaseQueue? {
        guard path != ":memory:" else { return nil }
        do {
            return try DatabaseQueue(path: path, configuration: Self.configuration(readonly: true, cacheKiB: cacheKiB))
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Copies everything the write-ahead log holds into the file itself and empties the log, so the file alone is
    /// the whole store: a shard's store is copied as one file (an Argo artifact), and a process that ends without
    /// closing its connections would otherwise leave the newest pages in `-wal` beside it.
    /// - Throws: store errors.
    /// It also turns SQLite's automatic checkpoint back on, if ``suspendAutomaticCheckpoints(_:)`` turned it off.
    package func checkpoint() throws {
        guard path != ":memory:" else { return }
        // The first column is 1 when a reader blocked the checkpoint: the file alone would then miss pages.
        let busy = try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.automaticCheckpointPages)")
            return try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)").map { $0[0] as Int } ?? 0
        }
        if busy != 0 {
            throw StoreError.notCheckpointed(path: path)
        }
    }

    /// SQLite's default: a commit that leaves the log longer than this many pages copies it into the file.
    static let automaticCheckpointPages = 1000

    /// Turns SQLite's automatic checkpoint off on the store's connection (`db`, outside a transaction) until the
    /// next ``checkpoint()``.
    ///
    /// For a bulk write that its caller checkpoints itself: the first commit after it — the bulk write's own, or a
    /// small one that follows, such as a run marked complete — would otherwise copy the whole log into the file on
    /// the committing thread (seconds for the half GiB of a million-message replay) while everything waits; the
    /// `run` command copies it with ``checkpoint(during:)`` while it writes the reports. Nothing is at risk
    /// meanwhile: the log is part of the store, and the last connection to close copies it.
    /// - Throws: database errors.
    package static func suspendAutomaticCheckpoints(_ db: Database) throws {
        try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
    }

    /// ``checkpoint()``, with `work` done meanwhile: the log is copied into the file on a connection of its own
    /// while `work` runs — a run's reports read the store meanwhile, and copying the log of a large replay (half a
    /// GiB for a million messages) takes seconds — and emptied once `work` is done.
    ///
    /// The copy is SQLite's passive checkpoint, which neither waits for the readers nor blocks them; the checkpoint
    /// that follows has nothing left to copy. It is made whether `work` throws or not (a failed gate still leaves
    /// the store whole).
    /// - Throws: what ``checkpoint()`` throws, else what `work` throws.
    package func checkpoint<T>(during work: () throws -> T) throws -> T {
        guard path != ":memory:" else { return try work() }
        let copied = DispatchGroup()
        let path = self.path
        copied.enter()
        DispatchQueue.global().async {
            defer { copied.leave() }
            // Best effort: the checkpoint below does whatever this one could not.
            guard let copier = try? DatabaseQueue(path: path, configuration: Self.configuration(readonly: false))
            else { return }
            _ = try? copier.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        }
        let result = Result { try work() }
        copied.wait()
        try checkpoint()
        return try result.get()
    }

    /// Resolves the store path: an explicit flag, else `TRIAGE_EVAL_DB`, else the default.
    package static func resolvePath(flag: String?, environment: [String: String]) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }
}

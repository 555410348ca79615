import Foundation
import GRDB

/// Brings a corpus folder into the store: its deliveries (ingested) and shipped replies (imported), each file
/// once — a file already loaded with the same content is skipped, so `run` alone works on an empty store and
/// repeated runs do not grow it.
///
/// Layout: `deliveries/` (webhook bodies, any input `ingest` reads), `labels.yaml`, `replies*.jsonl[.gz]`.
package struct CorpusLoader {
    /// The store.
    package var store: Store
    /// How progress is shown.
    package var progressStyle: Progress.Style = .silent

    package init(store: Store, progressStyle: Progress.Style = .silent) {
        self.store = store
        self.progressStyle = progressStyle
    }

    /// What loading did.
    package struct Summary: Sendable, Equatable {
        package var ingest = IngestSummary()
        package var replies = ReplyImporter.Summary()
        package var skippedFiles = 0
    }

    /// The SHA-256 of a file's bytes as stored (not inflated): the one computed by an earlier run when the file's
    /// size, modification time and inode are unchanged since (a corpus of a few GB took seconds to hash on every
    /// run), else read in chunks. A file modified less than two seconds before it is hashed is not remembered: a
    /// write in the same clock tick would leave its time unchanged (git's "racy" files).
    /// - Parameter path: the file's path, nil when it cannot be named as a `String` (standard input, a name that is
    ///   not UTF-8): then it is always hashed.
    private func fileSha(path: String?, open: () throws -> ByteSource) throws -> String {
        guard let path, let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.int64Value,
            let modified = attributes[.modificationDate] as? Date,
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.int64Value
        else { return try open().rawSha256() }
        let identity = CorpusFileStatRecord.Identity(
            size: size, modifiedNs: Int64((modified.timeIntervalSince1970 * 1e9).rounded()), inode: inode)
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let known = try store.queue.read({ db in
            try CorpusFileStatRecord.sha256(db, path: absolute, identity: identity)
        }) {
            return known
        }
        let started = Date()
        let sha = try open().rawSha256()
        if Double(identity.modifiedNs) / 1e9 < started.timeIntervalSince1970 - 2 {
            try store.queue.write { db in
                try CorpusFileStatRecord.save(
                    db, path: absolute, identity: identity, sha256: sha, at: UTCTimestamp.string(started))
            }
        }
        return sha
    }

    private func alreadyLoaded(sha: String, kind: String) throws -> Bool {
        try store.queue.read { db in try CorpusFileRecord.isLoaded(db, sha256: sha, kind: kind) }
    }

    private func markLoaded(sha: String, kind: String, path: String) throws {
        try store.queue.write { db in
            try CorpusFileRecord(sha256: sha, kind: kind, path: path, loadedAt: UTCTimestamp.string())
                .insert(db, onConflict: .ignore)
        }
    }

    /// Loads a corpus folder.
    /// - Parameters:
    ///   - directory: the corpus folder.
    ///   - provider: the provider recorded for replies that do not name one.
    /// - Throws: ``IngestError``, ``ReplyImportError``, database errors.
    package func load(directory: String, provider: String) throws -> Summary {
        var summary = Summary()
        let deliveries = (directory as NSString).appendingPathComponent("deliveries")
        if FileManager.default.fileExists(atPath: deliveries) {
            var ingestor = Ingestor(store: store)
            ingestor.progressStyle = progressStyle
            ingestor.corpus = (directory as NSString).lastPathComponent
            for file in try Ingestor.inputFiles([deliveries]) {
                let name = file.systemPath != nil && !file.hasEscapedName ? file.path : nil
                let sha = try fileSha(path: name, open: file.open)
                if try alreadyLoaded(sha: sha, kind: "deliveries") {
                    summary.skippedFiles += 1
                    continue
                }
                summary.ingest.add(try ingestor.ingest(files: [file]))
                try markLoaded(sha: sha, kind: "deliveries", path: file.path)
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted()
        where name.hasPrefix("replies") && (name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz")) {
            let path = (directory as NSString).appendingPathComponent(name)
            let sha = try fileSha(path: path) { try ByteSource(path: path) }
            if try alreadyLoaded(sha: sha, kind: "replies") {
                summary.skippedFiles += 1
                continue
            }
            let imported = try ReplyImporter.importFile(path: path, defaultProvider: provider, store: store)
            summary.replies.read += imported.read
            summary.replies.imported += imported.imported
            summary.replies.alreadyPresent += imported.alreadyPresent
            summary.replies.blank += imported.blank
            try markLoaded(sha: sha, kind: "replies", path: path)
        }
        return summary
    }
}

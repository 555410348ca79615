import Foundation
import GRDB

/// An incident (`incident`): the deliveries of one (receiver, groupKey) from a firing delivery to a resolved one.
/// Ingest's writer creates and updates incidents with raw statements (`scripts/bench-ingest`); everything that
/// reads them goes through here.
struct IncidentRecord: Codable, FetchableRecord, TableRecord {
    static let databaseTableName = "incident"

    var id: String
    var receiver: String
    var groupKey: String
    var alertname: String?
    var startsAt: String
    /// `open`, `resolved` or `superseded`.
    var status: String
    var firstDeliveryId: Int64
    var lastDeliveryId: Int64
    var deliveryCount: Int

    enum Columns {
        static let id = Column(CodingKeys.id)
    }

    /// Every stored incident's id.
    static func allIds(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, IncidentRecord.select(Columns.id)))
    }

    /// Whether an incident is stored.
    static func exists(_ db: Database, id: String) throws -> Bool {
        try IncidentRecord.exists(db, key: id)
    }

    /// How many incidents a corpus's deliveries make.
    static func count(_ db: Database, corpus: String) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(DISTINCT incidentId) FROM delivery WHERE corpus = ? AND incidentId IS NOT NULL",
            arguments: [corpus]) ?? 0
    }

    /// The body of an incident's first delivery (what its event is built from), or nil for an unknown incident.
    static func firstBody(_ db: Database, id: String) throws -> [UInt8]? {
        // Cached: a run asks for every labelled incident's in one transaction.
        let statement = try db.cachedStatement(
            sql:
                "SELECT body FROM delivery JOIN incident ON incident.firstDeliveryId = delivery.id WHERE incident.id = ?"
        )
        return try Data.fetchOne(statement, arguments: [id]).map(Array.init)
    }

    /// The incidents with a delivery in a corpus, by id, with their first delivery's id.
    static func withFirstDelivery(_ db: Database, corpus: String) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT id, receiver, alertname, firstDeliveryId FROM incident
                WHERE id IN (SELECT DISTINCT incidentId FROM delivery WHERE corpus = ?)
                ORDER BY id
                """,
            arguments: [corpus])
    }
}

/// An input file a run has already ingested or imported, by content (`corpusFile`), so runs do not re-read it.
struct CorpusFileRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "corpusFile"

    var sha256: String
    /// `deliveries` or `replies`.
    var kind: String
    var path: String
    var loadedAt: String

    /// Whether a file of that content and kind was loaded.
    static func isLoaded(_ db: Database, sha256: String, kind: String) throws -> Bool {
        try CorpusFileRecord.exists(db, key: ["sha256": sha256, "kind": kind])
    }
}

/// The `corpusFileStat` table: each corpus file's SHA-256 as last computed, keyed by path, with what `stat` said.
enum CorpusFileStatRecord {
    /// What `stat` says of a file.
    struct Identity: Equatable {
        var size: Int64
        var modifiedNs: Int64
        var inode: Int64
    }

    /// The SHA-256 stored for a path, when its file has not changed since (same size, modification time, inode).
    static func sha256(_ db: Database, path: String, identity: Identity) throws -> String? {
        try String.fetchOne(
            db,
            sql: """
                SELECT sha256 FROM corpusFileStat WHERE path = ? AND size = ? AND modifiedNs = ? AND inode = ?
                """,
            arguments: [path, identity.size, identity.modifiedNs, identity.inode])
    }

    /// Stores a path's SHA-256 with its file's identity.
    static func save(_ db: Database, path: String, identity: Identity, sha256: String, at time: String) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO corpusFileStat (path, size, modifiedNs, inode, sha256, computedAt)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [path, identity.size, identity.modifiedNs, identity.inode, sha256, time])
    }
}

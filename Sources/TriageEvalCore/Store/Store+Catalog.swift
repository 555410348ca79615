import GRDB

/// An action catalog, by content (`catalog`).
struct CatalogRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "catalog"

    var id: Int64?
    /// SHA-256 of `text`.
    var sha256: String
    var path: String
    /// `yaml` or `json`.
    var format: String
    /// The file's exact text.
    var text: String
    /// `json.dumps(catalog, indent=2)`: what the system prompt embeds.
    var json: String
    var loadedAt: String

    enum Columns {
        static let sha256 = Column(CodingKeys.sha256)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Stores a catalog unless one with the same text is stored, and returns its id.
    static func save(_ db: Database, _ catalog: Catalog, at loadedAt: String) throws -> Int64 {
        if let existing = try CatalogRecord.filter(Columns.sha256 == catalog.sha256).fetchOne(db), let id = existing.id
        {
            return id
        }
        var record = CatalogRecord(
            id: nil, sha256: catalog.sha256, path: catalog.path, format: catalog.format, text: catalog.text,
            json: catalog.promptJSON, loadedAt: loadedAt)
        try record.insert(db)
        return record.id!
    }

    /// The catalog a run used, parsed again from its stored text.
    static func catalog(ofRun run: RunRecord, in db: Database) throws -> Catalog {
        let record = try CatalogRecord.fetchOne(db, key: run.catalogId)!
        return try Catalog.parse(text: record.text, path: record.path, format: record.format)
    }
}

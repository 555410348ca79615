/// What an ingest did with every unit it read. `read == stored + duplicates + quarantined` always holds.
package struct IngestSummary: Codable, Sendable, Equatable {
    /// Units read (bodies; blank lines are not units).
    package var read = 0
    /// New deliveries stored.
    package var stored = 0
    /// Units whose bytes were already stored (repeats, retries, re-ingests).
    package var duplicates = 0
    /// Units refused and kept in the quarantine table.
    package var quarantined = 0
    /// Blank lines skipped in JSON Lines input.
    package var blank = 0
    /// Incidents opened by this ingest.
    package var incidents = 0
    /// Incidents closed by a resolved delivery in this ingest.
    package var resolved = 0
    /// Resolved deliveries that arrived with no open incident for their group.
    package var orphanResolved = 0
    /// Input files read.
    package var files = 0
    /// Bytes read (after decompression).
    package var bytes = 0
    /// Files whose stream broke (a truncated or corrupt gzip): the units before the break were kept, the tail
    /// quarantined.
    package var brokenFiles: [BrokenFile] = []
    /// Files read whose names are not valid UTF-8 (named with `\xNN` escapes in sources and messages).
    package var escapedNames = 0

    /// A file whose stream broke.
    package struct BrokenFile: Codable, Sendable, Equatable {
        /// The file.
        package var path: String
        /// What broke.
        package var reason: String

        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    package init() {}

    /// Adds another summary's counts to this one.
    package mutating func add(_ other: IngestSummary) {
        read += other.read
        stored += other.stored
        duplicates += other.duplicates
        quarantined += other.quarantined
        blank += other.blank
        incidents += other.incidents
        resolved += other.resolved
        orphanResolved += other.orphanResolved
        files += other.files
        bytes += other.bytes
        brokenFiles += other.brokenFiles
        escapedNames += other.escapedNames
    }

    /// Whether every unit read is accounted for.
    package var isBalanced: Bool { read == stored + duplicates + quarantined }
}

/// What happened to one unit.
package enum UnitOutcome: Equatable, Sendable {
    /// Stored as a new delivery, in this incident (nil for a resolved delivery with no open incident); whether it
    /// opened or closed the incident.
    case stored(deliveryId: Int64, incidentId: String?, opened: Bool, closed: Bool)
    /// Its bytes were already stored.
    case duplicate(deliveryId: Int64)
    /// Refused, with the reason.
    case quarantined(QuarantineReason)
}

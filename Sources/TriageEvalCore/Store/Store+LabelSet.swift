import Foundation
import GRDB

/// A run's labels, by content (`labelSet`): what the run was judged against, so that its report never changes.
struct LabelSetRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "labelSet"

    var id: Int64?
    /// SHA-256 of the corpus and every entry's columns, in incident order.
    var sha256: String
    var corpus: String
    var labelCount: Int
    var createdAt: String

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sha256 = Column(CodingKeys.sha256)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Stores a set of entries (their `labelSetId` is set here) unless one with the same content exists, and
    /// returns the set's id.
    static func save(_ entries: [LabelRecord], corpus: String, in db: Database) throws -> Int64 {
        let sha256 = digest(entries, corpus: corpus)
        if let existing = try LabelSetRecord.filter(Columns.sha256 == sha256).fetchOne(db), let id = existing.id {
            return id
        }
        var set = LabelSetRecord(
            id: nil, sha256: sha256, corpus: corpus, labelCount: entries.count, createdAt: UTCTimestamp.string())
        try set.insert(db)
        let id = set.id!
        for var entry in entries {
            entry.labelSetId = id
            try entry.insert(db)
        }
        return id
    }

    /// The content key: every column of every entry (but the set id), each length-prefixed so that no two sets
    /// share it.
    static func digest(_ entries: [LabelRecord], corpus: String) -> String {
        // Appended in place, a run's 100,000 labels and more: no text or array is made per column.
        var bytes: [UInt8] = []
        func add(_ text: String?) {
            guard let text else {
                bytes.append(UInt8(ascii: "-"))
                return
            }
            var length = text.utf8.count
            let digitsStart = bytes.count
            repeat {
                bytes.append(UInt8(ascii: "0") + UInt8(length % 10))
                length /= 10
            } while length > 0
            bytes[digitsStart...].reverse()
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: text.utf8)
        }
        add(corpus)
        for entry in entries.sorted(by: { $0.incidentId < $1.incidentId }) {
            add(entry.incidentId)
            add(entry.expect)
            add(entry.actions)
            add(entry.alternatives)
            add(entry.forbidden)
            add(entry.note)
            add(entry.source)
            add(entry.origin)
        }
        return Digest.sha256Hex(bytes)
    }
}

/// One label of a set (`labelSetEntry`), in the stored form: action sets as JSON with parameter matchers.
struct LabelRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "labelSetEntry"

    var labelSetId: Int64
    var incidentId: String
    /// `act`, `human` or `none`.
    var expect: String
    /// JSON list of `{name, params}`; each param a matcher: a string (exact), `{"regex": …}` or `{"any": true}`.
    var actions: String
    /// JSON list of such action sets that also count as correct.
    var alternatives: String
    /// JSON list of action names.
    var forbidden: String
    var note: String?
    /// `labels.yaml:line` of the label or of the rule that made it.
    var source: String
    /// `rule` or `incident`.
    var origin: String

    enum Columns {
        static let labelSetId = Column(CodingKeys.labelSetId)
        static let incidentId = Column(CodingKeys.incidentId)
        static let origin = Column(CodingKeys.origin)
        static let source = Column(CodingKeys.source)
    }

    /// A resolved label in its stored form.
    init(_ label: Label) {
        labelSetId = 0
        incidentId = label.incidentId
        expect = label.expect.rawValue
        actions = PythonJSONEncoder.string(Self.json(label.actions))
        alternatives = PythonJSONEncoder.string(.array(label.alternatives.map(Self.json)))
        forbidden = PythonJSONEncoder.string(.array(label.forbidden.map(JSONValue.string)))
        note = label.note
        source = label.source
        origin = label.byRule ? "rule" : "incident"
    }

    /// A row of `labelSetEntry`, read by column name (not through `Decodable`, which a report's 100,000 labels
    /// made a second's work).
    init(row: Row) throws {
        labelSetId = row["labelSetId"]
        incidentId = row["incidentId"]
        expect = row["expect"]
        actions = row["actions"]
        alternatives = row["alternatives"]
        forbidden = row["forbidden"]
        note = row["note"]
        source = row["source"]
        origin = row["origin"]
    }

    /// The label this record stores (the inverse of ``init(_:)``; a column that does not parse reads as empty).
    var label: Label {
        func set(_ value: JSONValue?) -> [ExpectedAction] {
            (value?.arrayElements ?? []).map { action in
                var params: [String: ParamMatcher] = [:]
                for (key, matcher) in action["params"]?.objectMembers ?? [] {
                    if let exact = matcher.stringValue {
                        params[key] = .exact(exact)
                    } else if let pattern = matcher["regex"]?.stringValue {
                        params[key] = .regex(pattern)
                    } else {
                        params[key] = .any
                    }
                }
                return ExpectedAction(name: action["name"]?.stringValue ?? "", params: params)
            }
        }
        return Label(
            incidentId: incidentId, expect: ExpectedOutcome(rawValue: expect) ?? .human,
            actions: set(try? JSONParser.parse(actions)),
            alternatives: ((try? JSONParser.parse(alternatives))?.arrayElements ?? []).map(set),
            forbidden: ((try? JSONParser.parse(forbidden))?.arrayElements ?? []).compactMap(\.stringValue), note: note,
            source: source, byRule: origin == "rule")
    }

    /// An action set as stored: `[{name, params}]`, params sorted by name.
    static func json(_ set: [ExpectedAction]) -> JSONValue {
        .array(
            set.map { action in
                .object([
                    ("name", .string(action.name)),
                    (
                        "params",
                        .object(
                            action.params.keys.sorted().map { key in
                                switch action.params[key]! {
                                case .exact(let value): return (key, .string(value))
                                case .regex(let pattern): return (key, .object([("regex", .string(pattern))]))
                                case .any: return (key, .object([("any", .bool(true))]))
                                }
                            })
                    ),
                ])
            })
    }
}

extension Store {
    /// The labels of a run's set, in incident order.
    static func labels(ofRun runId: String, in db: Database) throws -> [LabelRecord] {
        try LabelRecord.fetchAll(
            db,
            sql: """
                SELECT labelSetEntry.* FROM labelSetEntry JOIN run ON run.labelSetId = labelSetEntry.labelSetId
                WHERE run.id = ? ORDER BY labelSetEntry.incidentId
                """,
            arguments: [runId])
    }

    /// Each labelled incident's expectation (`act`, `human` or `none`) in a run's label set.
    static func labelExpectations(ofRun runId: String, in db: Database) throws -> [String: String] {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT labelSetEntry.incidentId, labelSetEntry.expect FROM labelSetEntry
                JOIN run ON run.labelSetId = labelSetEntry.labelSetId WHERE run.id = ?
                """,
            arguments: [runId])
        var expectations: [String: String] = [:]
        while let row = try rows.next() { expectations[row[0]] = row[1] }
        return expectations
    }
}

extension Label {
    /// The content key of a run's labels as the store keeps it (`labelSet.sha256`): a run reuses a stored set with
    /// the same key, and a resume refuses labels whose key changed.
    package static func setDigest(_ labels: [Label], corpus: String) -> String {
        LabelSetRecord.digest(labels.map(LabelRecord.init), corpus: corpus)
    }
}

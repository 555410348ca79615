import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// The pipeline replay's message order (``DeliverySighting/Timeline``), on a store worked by hand: by receive time
/// (none first), then ingest time, then — of one time and one ingest — a delivery's first sighting before a repeat,
/// and deliveries by id; a re-ingest of a file already read (a repeat from its delivery's own source, or a second
/// repeat from one source) is no message, and another corpus's sightings are not read.
@Suite struct SightingTimelineTests {
    /// Deliveries 1, 2 and 5 are incident A's, 3 is B's, 4 another corpus's; the repeats are described beside them.
    private static func store(_ temp: TemporaryDirectory) throws -> Store {
        let store = try Store(path: temp.file("s.sqlite"))
        try store.queue.write { db in
            try db.execute(
                sql: """
                    PRAGMA defer_foreign_keys = ON;  -- incidents and deliveries refer to each other
                    INSERT INTO incident (id, receiver, groupKey, startsAt, status, firstDeliveryId, lastDeliveryId,
                        deliveryCount)
                    VALUES ('inc-a', 'r', 'ga', 's', 'open', 1, 5, 3), ('inc-b', 'r', 'gb', 's', 'open', 3, 3, 1),
                           ('inc-o', 'r', 'go', 's', 'open', 4, 4, 1);
                    INSERT INTO delivery (id, sha256, body, receiver, groupKey, status, alertCount, truncatedAlerts,
                        source, receivedAt, incidentId, corpus, ingestedAt)
                    VALUES (1, 'a', x'7b7d', 'r', 'ga', 'firing', 1, 0, 'f1:1', 100, 'inc-a', 'c', 't1'),
                           (2, 'b', x'7b7d', 'r', 'ga', 'firing', 1, 0, 'f1:2', 100, 'inc-a', 'c', 't1'),
                           (3, 'c', x'7b7d', 'r', 'gb', 'firing', 1, 0, 'f1:3', NULL, 'inc-b', 'c', 't1'),
                           (4, 'd', x'7b7d', 'r', 'go', 'firing', 1, 0, 'g:1', 50, 'inc-o', 'other', 't1'),
                           (5, 'e', x'7b7d', 'r', 'ga', 'resolved', 1, 0, 'f1:5', 200, 'inc-a', 'c', 't0');
                    INSERT INTO deliveryRepeat (id, deliveryId, source, receivedAt, ingestedAt)
                    VALUES (10, 1, 'f2:1', 100, 't1'),  -- ties with deliveries 1 and 2: after both
                           (11, 5, 'f2:5', 100, 't0'),  -- of time 100, the earliest ingest: first
                           (12, 1, 'f1:1', 150, 't2'),  -- delivery 1's own source again: a re-ingest
                           (13, 2, 'f3:2', 150, 't2'),
                           (14, 2, 'f3:2', 160, 't3'),  -- a second repeat from f3:2: a re-ingest
                           (15, 4, 'g:2', 10, 't1'),    -- another corpus's
                           (16, 1, 'f4:1', NULL, 't1'); -- untimed, as delivery 3: after it
                    INSERT INTO deliveryEvent (deliveryId, incidentId, encoding, userSha256, targets)
                    VALUES (1, 'inc-a', 1, 'h1', '[["web", null, null, null]]');
                    """)
        }
        return store
    }

    private static func read(
        _ store: Store, encoding: Int = 1, incidentId: String? = nil, targets: Bool = true
    ) throws -> [(source: String, deliveryId: Int64, digest: String?, targets: String?, order: Int)] {
        try store.queue.read { db in
            let timeline = try DeliverySighting.Timeline(
                db, corpus: "c", encoding: encoding, incidentId: incidentId, targets: targets)
            var rows: [(String, Int64, String?, String?, Int)] = []
            while let (sighting, digest, targets) = try timeline.next() {
                rows.append((sighting.source, sighting.deliveryId, digest, targets, sighting.ingestOrder))
            }
            return rows
        }
    }

    @Test func aCorpusInReceiveOrderWithItsTiesBrokenByIngestThenDeliveriesFirst() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Self.store(temp)
        let rows = try Self.read(store)
        #expect(rows.map(\.source) == ["f1:3", "f4:1", "f2:5", "f1:1", "f1:2", "f2:1", "f3:2", "f1:5"])
        #expect(rows.map(\.deliveryId) == [3, 1, 5, 1, 2, 1, 2, 5])
        #expect(rows.map(\.order) == Array(0..<8))
        // Delivery 1's digest under encoding 1, with each of its sightings; none under another encoding.
        #expect(rows.map(\.digest) == [nil, "h1", nil, "h1", nil, "h1", nil, nil])
        // Its stored deploy targets come with them.
        let web = #"[["web", null, null, null]]"#
        #expect(rows.map(\.targets) == [nil, web, nil, web, nil, web, nil, nil])
        // Not asked for, none are read.
        #expect(try Self.read(store, targets: false).allSatisfy { $0.targets == nil })
        #expect(try Self.read(store, encoding: 2).allSatisfy { $0.digest == nil })
    }

    /// The census counts what the timeline reads, and the deliveries with an incident (1, 2, 3 and 5 in corpus c)
    /// without a reply of sample 0 to their user message: each delivery is counted once, whichever connection
    /// counts it (ids split odd and even).
    @Test func theCensusCountsTheSightingsAndTheDeliveriesWithoutAFirstReply() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Self.store(temp)
        func census() throws -> (sightings: Int, withoutFirstSample: Int) {
            try DeliverySighting.census(store: store, corpus: "c", encoding: 1, provider: "p", model: "m").value()
        }
        // No reply at all: all four.
        #expect(try census() == (8, 4))
        try store.queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO reply (incidentId, sample, provider, model, userSha256, text, source, recordedAt)
                    VALUES ('inc-a', 1, 'p', 'm', 'h1', '{}', 's', 't'),  -- not sample 0
                           ('inc-a', 0, 'p', 'other', 'h1', '{}', 's', 't'),  -- another model
                           ('inc-b', 0, 'p', 'm', 'h1', '{}', 's', 't')  -- another incident
                    """)
        }
        #expect(try census() == (8, 4))
        // Delivery 1's user message (h1, the only digest stored) gets its sample 0: three are left.
        try store.queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO reply (incidentId, sample, provider, model, userSha256, text, source, recordedAt)
                    VALUES ('inc-a', 0, 'p', 'm', 'h1', '{}', 's', 't')
                    """)
        }
        #expect(try census() == (8, 3))
        #expect(
            try DeliverySighting.census(store: store, corpus: "other", encoding: 1, provider: "p", model: "m").value()
                == (2, 1)
        )
    }

    @Test func oneIncidentsSightingsInTheSameOrder() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try Self.store(temp)
        #expect(
            try Self.read(store, incidentId: "inc-a").map(\.source) == [
                "f4:1", "f2:5", "f1:1", "f1:2", "f2:1", "f3:2", "f1:5",
            ])
        #expect(try Self.read(store, incidentId: "inc-b").map(\.source) == ["f1:3"])
        #expect(try Self.read(store, incidentId: "inc-o").isEmpty)
    }
}

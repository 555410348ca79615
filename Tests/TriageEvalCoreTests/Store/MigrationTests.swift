import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// Stores made by earlier versions open and migrate: the shipped migrations run as they were, the new ones after.
@Suite struct MigrationTests {
    /// A v2 store kept its labels per corpus (the last run's); v3 turns each corpus's labels into the label set of
    /// that corpus's runs, records how many incidents the corpus had, and drops the old table.
    @Test func v2LabelsBecomeTheLabelSetsOfTheirRuns() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.file("v2.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Store.migrator.migrate(queue, upTo: "v2-label-rules-and-sweeps")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO delivery (id, sha256, body, receiver, groupKey, status, alertCount, truncatedAlerts,
                        source, incidentId, corpus, ingestedAt)
                    VALUES (1, 'a', x'7b7d', 'r', 'g1', 'firing', 1, 0, 'f', 'inc-1', 'c', 't'),
                           (2, 'b', x'7b7d', 'r', 'g2', 'firing', 1, 0, 'f', 'inc-2', 'c', 't'),
                           (3, 'c', x'7b7d', 'r', 'g3', 'firing', 1, 0, 'f', 'inc-3', 'other', 't');
                    INSERT INTO incident (id, receiver, groupKey, startsAt, status, firstDeliveryId, lastDeliveryId,
                        deliveryCount)
                    VALUES ('inc-1', 'r', 'g1', 's', 'open', 1, 1, 1), ('inc-2', 'r', 'g2', 's', 'open', 2, 2, 1),
                           ('inc-3', 'r', 'g3', 's', 'open', 3, 3, 1);
                    INSERT INTO label (corpus, incidentId, expect, actions, forbidden, note, source, alternatives,
                        origin)
                    VALUES ('c', 'inc-1', 'act', '[{"name": "restart_pods", "params": {}}]', '[]', NULL, 'l:3', '[]',
                            'rule'),
                           ('c', 'inc-2', 'human', '[]', '["scale_up"]', 'n', 'l:9', '[]', 'incident'),
                           ('other', 'inc-3', 'none', '[]', '[]', NULL, 'm:1', '[]', 'incident');
                    INSERT INTO catalog (id, sha256, path, format, text, json, loadedAt)
                    VALUES (1, 'k', 'c.yaml', 'yaml', '', '{}', 't');
                    INSERT INTO run (id, scenario, scenarioPath, scenarioText, config, corpus, catalogId,
                        systemPromptSha256, provider, model, samples, threshold, approvalGate, cacheMode, matchMode,
                        status, startedAt)
                    VALUES ('r1', 's', 's.yaml', '', '{}', 'c', 1, 'x', 'anthropic', 'm', 1, 0.7, 0, 'replay',
                            'exact', 'complete', 't'),
                           ('r2', 's', 's.yaml', '', '{}', 'c', 1, 'x', 'anthropic', 'm', 1, 0.7, 0, 'replay',
                            'exact', 'complete', 't'),
                           ('r3', 's', 's.yaml', '', '{}', 'other', 1, 'x', 'anthropic', 'm', 1, 0.7, 0, 'replay',
                            'exact', 'complete', 't');
                    """)
        }
        try queue.close()

        let store = try Store(path: path)
        try store.queue.read { db in
            #expect(try db.tableExists("label") == false)
            let runs = try Row.fetchAll(
                db, sql: "SELECT id, labelSetId, corpusIncidents FROM run ORDER BY id")
            #expect(runs.map { $0["corpusIncidents"] as Int } == [2, 2, 1])
            let sets = runs.map { $0["labelSetId"] as Int64 }
            #expect(sets[0] == sets[1] && sets[0] != sets[2])
            let entries = try Row.fetchAll(
                db,
                sql: """
                    SELECT incidentId, expect, actions, forbidden, note, source, origin FROM labelSetEntry
                    WHERE labelSetId = ? ORDER BY incidentId
                    """,
                arguments: [sets[0]])
            #expect(entries.map { $0["incidentId"] as String } == ["inc-1", "inc-2"])
            #expect(entries[0]["actions"] as String == #"[{"name": "restart_pods", "params": {}}]"#)
            #expect(entries[1]["forbidden"] as String == #"["scale_up"]"#)
            #expect(entries[1]["note"] as String == "n")
            #expect(entries.map { $0["origin"] as String } == ["rule", "incident"])
            #expect(
                try Int.fetchOne(db, sql: "SELECT labelCount FROM labelSet WHERE id = ?", arguments: [sets[0]]) == 2)
        }
    }

    /// v4 folds quarantine rows that earlier re-ingests duplicated into one per (content, source), counting them.
    @Test func v4FoldsDuplicatedQuarantineRows() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.file("v3.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Store.migrator.migrate(queue, upTo: "v3-run-label-sets")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO quarantine (source, sha256, bytes, byteCount, reason, ingestedAt)
                    VALUES ('f:1', 'a', x'00', 1, 'r', 't'), ('f:1', 'a', x'00', 1, 'r', 't'),
                           ('f:2', 'b', x'00', 1, 'r', 't'), ('f:1', 'a', x'00', 1, 'r', 't'),
                           ('g:1', 'a', x'00', 1, 'r', 't');
                    """)
        }
        try queue.close()
        let store = try Store(path: path)
        let rows = try store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, source, seenCount FROM quarantine ORDER BY id").map {
                "\($0["id"] as Int) \($0["source"] as String) \($0["seenCount"] as Int)"
            }
        }
        #expect(rows == ["1 f:1 3", "3 f:2 1", "5 g:1 1"])
    }
}

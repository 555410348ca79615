import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

@Suite struct IngestTests {
    static let captured = Repository.path(
        "corpora/handwritten/deliveries/alertmanager-0.25-loopback-run3-exact-bytes.jsonl")

    static func body(
        receiver: String = "sre-webhook", groupKey: String = "{}:{alertname=\"X\"}",
        status: String = "firing", alerts: [(String, String, String)] = [("firing", "aaaa", "2026-01-01T00:00:00Z")],
        version: String = "4"
    ) -> String {
        let alertJSON = alerts.map { alert in
            """
            {"status":"\(alert.0)","labels":{"alertname":"X"},"annotations":{},"startsAt":"\(alert.2)",\
            "endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"\(alert.1)"}
            """
        }.joined(separator: ",")
        return """
            {"receiver":"\(receiver)","status":"\(status)","alerts":[\(alertJSON)],"groupLabels":{"alertname":"X"},\
            "commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","version":"\(version)",\
            "groupKey":"\(groupKey.replacingOccurrences(of: "\"", with: "\\\""))","truncatedAlerts":0}
            """
    }

    @Test func mixedInputIsFullyAccounted() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let valid = Self.body()
        let lines = [
            valid,
            "",
            valid,  // duplicate
            String(valid.prefix(40)),  // truncated
            "this is not json",
            Self.body(version: "3"),
            "   ",
            "{\"receiver\":\"x\"}",  // missing fields
        ]
        let path = try temp.directory.write("mixed.jsonl", lines.joined(separator: "\n") + "\n")
        let summary = try Ingestor(store: temp.store).ingest(paths: [path])
        #expect(summary.read == 6)
        #expect(summary.stored == 1)
        #expect(summary.duplicates == 1)
        #expect(summary.quarantined == 4)
        #expect(summary.blank == 2)
        #expect(summary.isBalanced)
        let reasons = try temp.store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT source, reason FROM quarantine ORDER BY id").map {
                "\($0["source"] as String) \($0["reason"] as String)"
            }
        }
        #expect(reasons.count == 4)
        #expect(reasons[0].hasPrefix("\(path):4 not JSON"))
        #expect(reasons[1].hasPrefix("\(path):5 not JSON"))
        #expect(reasons[2] == "\(path):6 unsupported webhook version \"3\" (expected \"4\")")
        #expect(reasons[3] == "\(path):8 missing field 'version'")
        // The exact bytes are kept, for stored and quarantined units alike.
        let storedBody = try temp.store.queue.read { db in try Data.fetchOne(db, sql: "SELECT body FROM delivery") }
        #expect(storedBody == Data(valid.utf8))
    }

    /// Re-ingesting the same input (a rerun after a kill, say) changes nothing but counts: each bad unit stays one
    /// quarantine row, its sightings counted, as a delivery's repeats are.
    @Test func reingestingQuarantinesEachUnitOnce() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let lines = ["this is not json", Self.body(version: "3"), Self.body(), "{\"receiver\":\"x\"}"]
        let path = try temp.directory.write("bad.jsonl", lines.joined(separator: "\n") + "\n")
        for _ in 0..<3 {
            let summary = try Ingestor(store: temp.store).ingest(paths: [path])
            #expect(summary.quarantined == 3 && summary.isBalanced)
        }
        let rows = try temp.store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT source, seenCount FROM quarantine ORDER BY id").map {
                "\($0["source"] as String) \($0["seenCount"] as Int)"
            }
        }
        #expect(rows == ["\(path):1 3", "\(path):2 3", "\(path):4 3"])
        // The same bytes from another source are another sighting of their own.
        let other = try temp.directory.write("other.jsonl", lines[0] + "\n")
        _ = try Ingestor(store: temp.store).ingest(paths: [other])
        let count = try temp.store.queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") }
        #expect(count == 4)
    }

    @Test func oversizedUnitsAreQuarantined() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let path = try temp.directory.write("big.json", Self.body() + "\n")
        let summary = try Ingestor(store: temp.store, sizeLimit: 100).ingest(paths: [path])
        #expect(summary.quarantined == 1)
        let reason = try temp.store.queue.read { db in try String.fetchOne(db, sql: "SELECT reason FROM quarantine") }
        #expect(reason?.hasPrefix("too large") == true)
    }

    @Test func oneTrailingNewlineIsStrippedFromJSONFiles() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let first = try temp.directory.write("a.json", Self.body() + "\n")
        let second = try temp.directory.write("b.json", Self.body())
        let summary = try Ingestor(store: temp.store).ingest(paths: [first, second])
        #expect(summary.stored == 1)
        #expect(summary.duplicates == 1)
    }

    @Test func capturedDeliveriesFormIncidents() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let summary = try Ingestor(store: temp.store).ingest(paths: [Self.captured])
        // 27 POSTs: 10 are byte-identical repeats of an earlier POST.
        #expect(summary.read == 27)
        #expect(summary.stored == 17)
        #expect(summary.duplicates == 10)
        // Six groups fire and resolve; the storm group is silenced and a flap re-opens Redis: 8 incidents.
        #expect(summary.incidents == 8)
        #expect(summary.resolved == 6)
        let statuses = try temp.store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT alertname, status FROM incident ORDER BY rowid").map {
                "\($0["alertname"] as String):\($0["status"] as String)"
            }
        }
        #expect(statuses.filter { $0.hasSuffix(":open") }.sorted() == ["KubeHpaMaxedOut:open", "RedisMemoryHigh:open"])
    }

    @Test func incidentIdsAreStableAcrossStores() throws {
        let first = try TemporaryStore()
        let second = try TemporaryStore()
        defer {
            first.remove()
            second.remove()
        }
        _ = try Ingestor(store: first.store).ingest(paths: [Self.captured])
        _ = try Ingestor(store: second.store).ingest(paths: [Self.captured])
        let ids = { (store: Store) in
            try store.queue.read { try String.fetchAll($0, sql: "SELECT id FROM incident ORDER BY id") }
        }
        #expect(try ids(first.store) == ids(second.store))
        // Re-ingesting changes nothing but the duplicate count.
        let again = try Ingestor(store: first.store).ingest(paths: [Self.captured])
        #expect(again.duplicates == 27)
        #expect(try ids(first.store).count == 8)
    }

    @Test func incidentIdIsDerivedFromReceiverGroupKeyAndEarliestStart() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let body = Self.body(alerts: [
            ("firing", "bbbb", "2026-01-01T00:00:05.5Z"), ("firing", "aaaa", "2026-01-01T00:00:05Z"),
        ])
        let path = try temp.directory.write("one.json", body)
        _ = try Ingestor(store: temp.store).ingest(paths: [path])
        let id = try temp.store.queue.read { try String.fetchOne($0, sql: "SELECT id FROM incident") }
        // sha256("sre-webhook\n{}:{alertname=\"X\"}\n2026-01-01T00:00:05Z"), computed with Python's hashlib.
        #expect(id == "inc-657857db178fbadf")
    }

    @Test func eventIsTheOpeningBodyWithIncidentIdFirst() throws {
        let body = Array(#"{"receiver":"r","status":"firing"}"#.utf8)
        let event = body.withUnsafeBufferPointer { DeliveryWriter.event(body: $0, incidentId: "inc-1") }
        #expect(String(decoding: event, as: UTF8.self) == #"{"incident_id":"inc-1","receiver":"r","status":"firing"}"#)
    }

    @Test func resolveClosesAndRefireOpensANewIncident() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let lines = [
            Self.body(alerts: [("firing", "aaaa", "2026-01-01T00:00:00Z"), ("firing", "bbbb", "2026-01-01T00:00:00Z")]),
            Self.body(alerts: [
                ("resolved", "aaaa", "2026-01-01T00:00:00Z"), ("firing", "bbbb", "2026-01-01T00:00:00Z"),
            ]),
            Self.body(status: "resolved", alerts: [("resolved", "bbbb", "2026-01-01T00:00:00Z")]),
            Self.body(alerts: [("firing", "aaaa", "2026-01-01T01:00:00Z")]),
            // A firing delivery sharing no (fingerprint, startsAt) with the open incident starts another.
            Self.body(alerts: [("firing", "cccc", "2026-01-02T00:00:00Z")]),
            Self.body(status: "resolved", alerts: [("resolved", "zzzz", "2026-01-03T00:00:00Z")]),
        ]
        let path = try temp.directory.write("flow.jsonl", lines.joined(separator: "\n"))
        let summary = try Ingestor(store: temp.store).ingest(paths: [path])
        #expect(summary.incidents == 3)
        #expect(summary.resolved == 2)
        let rows = try temp.store.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT status, deliveryCount FROM incident ORDER BY rowid").map {
                "\($0["status"] as String)/\($0["deliveryCount"] as Int)"
            }
        }
        #expect(rows == ["resolved/3", "superseded/1", "resolved/2"])
    }

    @Test func sidecarReceiveTimesOrderUnits() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let firing = Self.body(alerts: [("firing", "aaaa", "2026-01-01T00:00:00Z")])
        let resolved = Self.body(status: "resolved", alerts: [("resolved", "aaaa", "2026-01-01T00:00:00Z")])
        // The file lists the resolve first, but it was received second.
        try temp.directory.write("out-of-order.jsonl", resolved + "\n" + firing + "\n")
        try temp.directory.write(
            "out-of-order.headers.jsonl", "{\"recv_unix\": 20.5}\n{\"recv_unix\": 10.25}\n")
        let summary = try Ingestor(store: temp.store).ingest(paths: [temp.directory.path])
        #expect(summary.files == 1)
        #expect(summary.read == 2)
        #expect(summary.incidents == 1)
        #expect(summary.resolved == 1)
        #expect(summary.orphanResolved == 0)
        let times = try temp.store.queue.read {
            try Double.fetchAll($0, sql: "SELECT receivedAt FROM delivery ORDER BY id")
        }
        #expect(times == [10.25, 20.5])
    }

    @Test func gzippedInputIsRead() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let plain = try temp.directory.write("g.jsonl", Self.body() + "\n\n")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", plain]
        try gzip.run()
        gzip.waitUntilExit()
        let summary = try Ingestor(store: temp.store).ingest(paths: [plain + ".gz"])
        #expect(summary.stored == 1)
        #expect(summary.blank == 1)
    }

    @Test func unknownFilesAreSetUpErrors() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let path = try temp.directory.write("notes.txt", "x")
        #expect(throws: IngestError.unsupportedFile(path)) { try Ingestor(store: temp.store).ingest(paths: [path]) }
        #expect(throws: IngestError.notFound("/nonexistent")) {
            try Ingestor(store: temp.store).ingest(paths: ["/nonexistent"])
        }
    }
}

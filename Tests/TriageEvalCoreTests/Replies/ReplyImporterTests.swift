import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

@Suite struct ReplyImporterTests {
    static func storeWithDemoIncidents() throws -> TemporaryStore {
        let temp = try TemporaryStore()
        _ = try Ingestor(store: temp.store).ingest(paths: [Repository.path("corpora/handwritten/deliveries")])
        return temp
    }

    @Test func importsOnceAndRejectsConflicts() throws {
        let temp = try Self.storeWithDemoIncidents()
        defer { temp.remove() }
        let line =
            #"{"incident_id":"inc-4fcc88a1185c1f17","sample":0,"model":"m","text":"{}","stop_reason":"end_turn","usage":{"input_tokens":10}}"#
        let path = try temp.directory.write("r.jsonl", line + "\n\n")
        let first = try ReplyImporter.importFile(path: path, defaultProvider: "anthropic", store: temp.store)
        #expect(first.imported == 1)
        #expect(first.blank == 1)
        let again = try ReplyImporter.importFile(path: path, defaultProvider: "anthropic", store: temp.store)
        #expect(again.alreadyPresent == 1)
        let conflicting = try temp.directory.write(
            "c.jsonl", line.replacingOccurrences(of: #""text":"{}""#, with: #""text":"[]""#))
        #expect(
            throws: ReplyImportError.conflict(
                source: "\(conflicting):1", incidentId: "inc-4fcc88a1185c1f17", model: "m", sample: 0)
        ) {
            try ReplyImporter.importFile(path: conflicting, defaultProvider: "anthropic", store: temp.store)
        }
        let stored = try temp.store.queue.read { db in
            try Row.fetchOne(db, sql: "SELECT provider, stopReason, usage FROM reply")
        }
        #expect(stored?["provider"] == "anthropic")
        #expect(stored?["stopReason"] == "end_turn")
        #expect(stored?["usage"] == #"{"input_tokens": 10}"#)
    }

    @Test func badLinesNameFileAndLine() throws {
        let temp = try Self.storeWithDemoIncidents()
        defer { temp.remove() }
        let unknown = try temp.directory.write(
            "u.jsonl", #"{"incident_id":"inc-nope","sample":0,"model":"m","text":""}"#)
        #expect(throws: ReplyImportError.unknownIncident(source: "\(unknown):1", incidentId: "inc-nope")) {
            try ReplyImporter.importFile(path: unknown, defaultProvider: "anthropic", store: temp.store)
        }
        let badSample = try temp.directory.write(
            "s.jsonl", "\n" + #"{"incident_id":"inc-4fcc88a1185c1f17","sample":-1,"model":"m","text":""}"#)
        #expect(throws: ReplyImportError.badLine(source: "\(badSample):2", reason: "'sample' must be an integer ≥ 0")) {
            try ReplyImporter.importFile(path: badSample, defaultProvider: "anthropic", store: temp.store)
        }
        let notJSON = try temp.directory.write("n.jsonl", "nope")
        #expect(throws: ReplyImportError.self) {
            try ReplyImporter.importFile(path: notJSON, defaultProvider: "anthropic", store: temp.store)
        }
        // Nothing from a file with a bad line is kept.
        #expect(try temp.store.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM reply") } == 0)
    }
}

@Suite struct ReplyExportTests {
    @Test func exportThenImportRoundTripsEveryField() throws {
        let source = try ReplyImporterTests.storeWithDemoIncidents()
        defer { source.remove() }
        let line =
            #"{"incident_id":"inc-4fcc88a1185c1f17","sample":1,"provider":"openai","model":"m","text":"{\"a\": \"é\"}","stop_reason":"max_tokens","usage":{"prompt_tokens":12,"completion_tokens":3},"latency_ms":812.5,"request_sha256":"\#(String(repeating: "a", count: 64))","system_sha256":"\#(String(repeating: "b", count: 64))","recorded_at":"2026-11-29T10:00:00Z"}"#
        let path = try source.directory.write("in.jsonl", line + "\n")
        #expect(
            try ReplyImporter.importFile(path: path, defaultProvider: "anthropic", store: source.store).imported == 1)
        let exported = source.directory.file("out.jsonl.gz")
        let file = try OutputFile(path: exported)
        #expect(try ReplyExporter.export(store: source.store, filter: .init(model: "m")) { file.writeLine($0) } == 1)
        try file.close()

        let target = try ReplyImporterTests.storeWithDemoIncidents()
        defer { target.remove() }
        #expect(try ReplyImporter.importFile(path: exported, defaultProvider: "x", store: target.store).imported == 1)
        let row = try target.store.queue.read { db in try Row.fetchOne(db, sql: "SELECT * FROM reply")! }
        #expect(row["provider"] == "openai")
        #expect(row["text"] == #"{"a": "é"}"#)
        #expect(row["stopReason"] == "max_tokens")
        #expect(row["inputTokens"] == 12 && row["outputTokens"] == 3)
        #expect(row["latencyMs"] == 812.5)
        #expect(row["requestSha256"] == String(repeating: "a", count: 64))
        #expect(row["systemSha256"] == String(repeating: "b", count: 64))
        #expect(row["recordedAt"] == "2026-11-29T10:00:00Z")
        // The event key was computed at the first import from the stored event, and carried by the export.
        let user = try IncidentEvents.userMessage(store: target.store, incidentId: "inc-4fcc88a1185c1f17")
        #expect(row["userSha256"] == Digest.sha256Hex(user))
    }
}

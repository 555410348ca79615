import Foundation
import GRDB
import Testing
import TriageEvalTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `triage-eval capture` as Alertmanager sees it: a real HTTP peer on loopback, the store checked afterwards.
@Suite(.serialized) struct CaptureTests {
    static let capturedFile = Repository.path(
        "corpora/handwritten/deliveries/alertmanager-0.25-loopback-run3-exact-bytes.jsonl")

    /// The captured deliveries, each as sent (the file keeps the trailing LF of every body).
    static func deliveries() throws -> [Data] {
        let data = try Data(contentsOf: URL(fileURLWithPath: capturedFile))
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map {
            Data($0) + Data("\n".utf8)
        }
    }

    static func post(_ body: Data, port: Int, token: String?) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/alerts")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    static func start(_ temp: TemporaryDirectory, db: String) throws -> (BackgroundBinary, Int) {
        let capture = try BackgroundBinary(
            [
                "capture", "--listen", "127.0.0.1:0", "--db", db, "--corpus", "captured", "--max-body-bytes", "100000",
                "--bearer-token-env", "CAPTURE_TOKEN",
            ],
            environment: ["CAPTURE_TOKEN": "s3cret-token"])
        let line = try capture.waitForLine(containing: "listening on http://127.0.0.1:")
        let port = Int(line.split(separator: ":").last!.split(separator: " ").first!)!
        return (capture, port)
    }

    @Test func storesWhatIngestWouldAndAnswersOnlyOnceStored() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("capture.sqlite")
        let (capture, port) = try Self.start(temp, db: db)
        let ready = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/-/ready")!)
        #expect((ready.1 as! HTTPURLResponse).statusCode == 200)

        let deliveries = try Self.deliveries()
        #expect(try await Self.post(deliveries[0], port: port, token: nil).0 == 401)
        #expect(try await Self.post(deliveries[0], port: port, token: "wrong").0 == 401)
        for delivery in deliveries {
            let (status, body) = try await Self.post(delivery, port: port, token: "s3cret-token")
            #expect(status == 200, "\(body)")
        }
        let (again, againBody) = try await Self.post(deliveries[0], port: port, token: "s3cret-token")
        #expect(again == 200 && againBody.contains("duplicate"))
        let (bad, badBody) = try await Self.post(Data("not a webhook".utf8), port: port, token: "s3cret-token")
        #expect(bad == 400 && badBody.contains("not JSON"))
        let big =
            Data("{\"version\": \"4\", \"pad\": \"".utf8) + Data(repeating: UInt8(ascii: "x"), count: 150_000)
            + Data("\"}".utf8)
        #expect(try await Self.post(big, port: port, token: "s3cret-token").0 == 413)

        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
        #expect(capture.stderr.contains("received:"))
        #expect(!capture.stderr.contains("s3cret-token"), "the token is never logged")

        // The same file through `ingest`: the same deliveries and incidents.
        let ingested = temp.file("ingest.sqlite")
        #expect(try BinaryRunner.run(["ingest", Self.capturedFile, "--db", ingested]).status == 0)
        let captured = try DatabaseQueue(path: db)
        let reference = try DatabaseQueue(path: ingested)
        func facts(_ queue: DatabaseQueue) async throws -> ([String], [String]) {
            try await queue.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT sha256 FROM delivery ORDER BY sha256"),
                    try String.fetchAll(
                        db, sql: "SELECT id || ' ' || status || ' ' || deliveryCount FROM incident ORDER BY id")
                )
            }
        }
        let (capturedShas, capturedIncidents) = try await facts(captured)
        let (ingestedShas, ingestedIncidents) = try await facts(reference)
        #expect(capturedShas == ingestedShas)
        #expect(capturedIncidents == ingestedIncidents)
        // Distinct bodies, counted here: every body once, every repeat recorded.
        let distinct = Set(deliveries.map { $0.dropLast() })
        #expect(capturedShas.count == distinct.count)
        let repeats = try await captured.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveryRepeat")!
        }
        #expect(repeats == deliveries.count + 1 - distinct.count)
        let quarantined = try await captured.read { db in
            try String.fetchAll(db, sql: "SELECT reason FROM quarantine ORDER BY id")
        }
        #expect(quarantined.count == 2)
        #expect(quarantined.first?.hasPrefix("not JSON") == true)
        #expect(quarantined.last?.contains("100000") == true)
        let receivedAt = try await captured.read { db in
            try Double.fetchAll(db, sql: "SELECT receivedAt FROM delivery WHERE receivedAt IS NOT NULL")
        }
        #expect(receivedAt.count == distinct.count)
        let corpus = try await captured.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT corpus FROM delivery")
        }
        #expect(corpus == ["captured"])
    }

    @Test func servesConcurrentDeliveries() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let db = temp.file("concurrent.sqlite")
        let (capture, port) = try Self.start(temp, db: db)
        let template = String(decoding: try Self.deliveries()[0], as: UTF8.self)
        // 40 different groups at once.
        let bodies = (0..<40).map { index in
            Data(template.replacingOccurrences(of: "\"groupKey\":\"", with: "\"groupKey\":\"g\(index)-").utf8)
        }
        #expect(bodies.allSatisfy { $0 != bodies[0] } || Set(bodies).count == 40)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for body in bodies { group.addTask { try await Self.post(body, port: port, token: "s3cret-token").0 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 40))
        capture.signal(SIGINT)
        #expect(capture.wait() == 0)
        let stored = try await DatabaseQueue(path: db).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery")!
        }
        #expect(stored == Set(bodies).count)
    }

    @Test func setUpErrorsExitTwo() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let noToken = try BinaryRunner.run(
            ["capture", "--listen", "127.0.0.1:0", "--db", temp.file("x.sqlite"), "--bearer-token-env", "UNSET_VAR_X"])
        #expect(noToken.status == 2)
        #expect(noToken.stderr.contains("UNSET_VAR_X"))
        #expect(try BinaryRunner.run(["capture", "--listen", "nonsense"]).status == 64)
    }
}

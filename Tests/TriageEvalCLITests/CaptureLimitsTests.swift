import Foundation
import GRDB
import Testing
import TriageEvalTestSupport

/// `triage-eval capture` against clients that misbehave (rows 4 and 5 of issue 17's table, and the smaller items
/// on tokens, paths and addresses): every answer comes from a real server on loopback, over a bare socket.
@Suite(.serialized) struct CaptureLimitsTests {
    static func start(_ temp: TemporaryDirectory, token: Bool = true) throws -> (BackgroundBinary, Int, String) {
        let db = temp.file("limits.sqlite")
        let capture = try BackgroundBinary(
            ["capture", "--listen", "127.0.0.1:0", "--db", db, "--max-body-bytes", "100000"]
                + (token ? ["--bearer-token-env", "CAPTURE_TOKEN"] : []),
            environment: ["CAPTURE_TOKEN": "s3cret-token"])
        let line = try capture.waitForLine(containing: "listening on http://127.0.0.1:")
        let port = Int(line.split(separator: ":").last!.split(separator: " ").first!)!
        return (capture, port, db)
    }

    static func quarantine(_ db: String) throws -> [[String]] {
        try DatabaseQueue(path: db).read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT source, CAST(byteCount AS TEXT), CAST(length(bytes) AS TEXT), reason
                    FROM quarantine ORDER BY id
                    """
            ).map { row in (0..<4).map { row[$0] as String } }
        }
    }

    /// A 2 GB `Content-Length` is answered 413 from the head alone: nothing of the body is sent, so an answer
    /// proves nothing was waited for or buffered; the quarantine row keeps the declared size and no body.
    @Test func aDeclaredSizeOverTheLimitIsRefusedFromTheHead() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (capture, port, db) = try Self.start(temp, token: false)
        let head = "POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 2200000000\r\n\r\n"
        let response = try RawHTTP.exchange(Array(head.utf8), port: port)
        #expect(RawHTTP.status(response) == 413, "\(response)")
        #expect(response.contains("too large: 2200000000 bytes, the limit is 100000"))
        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
        let rows = try Self.quarantine(db)
        #expect(rows.count == 1)
        #expect(rows.first?[1] == "2200000000" && rows.first?[2] == "0")
    }

    /// A chunked body is cut off when it crosses the limit: 413, and a row with the bytes read and a 4 KiB prefix.
    @Test func aChunkedBodyOverTheLimitIsRefusedWhileStreaming() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (capture, port, db) = try Self.start(temp, token: false)
        var request = Array("POST /alerts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let chunk = Array(repeating: UInt8(ascii: "x"), count: 60_000)
        for _ in 0..<3 { request += Array("ea60\r\n".utf8) + chunk + Array("\r\n".utf8) }
        request += Array("0\r\n\r\n".utf8)
        let response = try RawHTTP.exchange(request, port: port)
        #expect(RawHTTP.status(response) == 413, "\(response)")
        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
        let row = try #require(try Self.quarantine(db).first)
        #expect(Int(row[1])! > 100_000 && row[2] == "4096")
        #expect(row[3].hasPrefix("too large:"))
    }

    /// Row 5: a 1 MiB header line is refused with 431 at once (parsing stops at 8 KiB), and `/-/ready` answers
    /// while such clients are connected.
    @Test func longHeadersAre431AndReadyStillAnswers() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (capture, port, _) = try Self.start(temp)
        let long =
            Array("GET /-/ready HTTP/1.1\r\nX-Long: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
            + Array("\r\n\r\n".utf8)
        async let first = Task.detached { try RawHTTP.exchange(long, port: port) }.value
        async let second = Task.detached { try RawHTTP.exchange(long, port: port) }.value
        let ready = try RawHTTP.exchange(Array("GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n".utf8), port: port)
        #expect(RawHTTP.status(ready) == 200)
        #expect(RawHTTP.status(try await first) == 431)
        #expect(RawHTTP.status(try await second) == 431)
        let many = "GET /-/ready HTTP/1.1\r\n" + (0..<200).map { "X-\($0): y\r\n" }.joined() + "\r\n"
        #expect(RawHTTP.status(try RawHTTP.exchange(Array(many.utf8), port: port)) == 431)
        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
    }

    /// Two `Authorization` headers are refused rather than the last one winning.
    @Test func twoAuthorizationHeadersAreRefused() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (capture, port, _) = try Self.start(temp)
        let body = "{}"
        let request =
            "POST /alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nAuthorization: Bearer s3cret-token\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let response = try RawHTTP.exchange(Array(request.utf8), port: port)
        #expect(RawHTTP.status(response) == 401)
        #expect(response.contains("more than one Authorization header"))
        let right =
            "POST /alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\nContent-Length: 2\r\n\r\n{}"
        #expect(RawHTTP.status(try RawHTTP.exchange(Array(right.utf8), port: port)) == 400)
        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
    }

    /// The request path goes into the source as sent, with control bytes and `%` percent-encoded: no request
    /// can write a line break or a forged-looking field into `delivery.source`.
    @Test func thePathCannotForgeASource() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let (capture, port, db) = try Self.start(temp, token: false)
        let request = "POST /a%0a%0dcapture:x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"
        #expect(RawHTTP.status(try RawHTTP.exchange(Array(request.utf8), port: port)) == 400)
        capture.signal(SIGTERM)
        #expect(capture.wait() == 0)
        let source = try #require(try Self.quarantine(db).first?[0])
        #expect(source.hasPrefix("capture:/a%250a%250dcapture:x#1 from 127.0.0.1:"))
        #expect(!source.contains("\n") && !source.contains("\r"))
    }

    /// `--listen` takes a host name; an address that cannot be bound is a set-up error naming it.
    @Test func listenTakesHostNamesAndNamesBadAddresses() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let capture = try BackgroundBinary(["capture", "--listen", "localhost:0", "--db", temp.file("h.sqlite")])
        _ = try capture.waitForLine(containing: "listening on http://localhost:")
        capture.signal(SIGINT)
        #expect(capture.wait() == 0)
        let bad = try BinaryRunner.run(["capture", "--listen", "999.1.1.1:19500", "--db", temp.file("b.sqlite")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("cannot listen on 999.1.1.1:19500"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("SocketError"))
    }
}

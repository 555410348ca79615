import FlyingFox
import FlyingSocks
import Foundation
import GRDB

/// An Alertmanager webhook receiver that stores each delivery exactly as `ingest` would.
///
/// - `POST` (any path): the body is stored through ``DeliveryWriter`` — one trailing LF stripped, deduplicated by
///   SHA-256, incidents rebuilt, bad input quarantined — with its receive time, and only then answered: `200`
///   once the write transaction has committed (with `synchronous = FULL`), so a delivery Alertmanager saw
///   acknowledged survives a crash, and one that was not is retried by Alertmanager. `413` when the body is over
///   the size limit and `400` with the reason when it is not a webhook body; both are still kept in quarantine.
///   `401` without the bearer token, when one is required.
/// - `GET /-/ready` (and `/-/healthy`): `200` while serving.
/// - Deliveries are received concurrently and stored one at a time, in arrival order.
package actor CaptureServer {
    /// What the receiver has done so far.
    package struct Counts: Sendable, Equatable {
        package var received = 0
        package var stored = 0
        package var duplicates = 0
        package var quarantined = 0
        package var refused = 0
    }

    /// A line for the log: what happened to one request.
    package typealias Log = @Sendable (String) -> Void

    private let store: Store
    private let writer: WriterBox
    private let bearerToken: String?
    private let sizeLimit: Int
    private let log: Log
    private var counts = Counts()
    private var sequence = 0
    private let server: HTTPServer

    /// The serialized owner of the delivery writer: it is only used inside the store's write queue (GRDB's serial
    /// writer), which already excludes every other use. `@unchecked` rather than a `Mutex`: the writer's commit
    /// takes a prepared unit that region isolation cannot prove disjoint from the writer, and the queue is the
    /// lock.
    private final class WriterBox: @unchecked Sendable {
        let writer: DeliveryWriter
        init(_ writer: DeliveryWriter) { self.writer = writer }
    }

    /// Creates a receiver.
    /// - Parameters:
    ///   - store: the store.
    ///   - host: an IPv4 address to listen on (`127.0.0.1`, `0.0.0.0`).
    ///   - port: the port (0 for any free one).
    ///   - corpus: the corpus recorded on stored deliveries.
    ///   - sizeLimit: bodies larger than this are answered 413 and quarantined.
    ///   - bearerToken: when set, requests must send `Authorization: Bearer <token>`.
    /// - Throws: when the address is not an IPv4 address.
    package init(
        store: Store, host: String, port: UInt16, corpus: String?, sizeLimit: Int = WebhookPayload.defaultSizeLimit,
        bearerToken: String?, log: @escaping Log
    ) throws {
        self.store = store
        self.writer = WriterBox(DeliveryWriter(sizeLimit: sizeLimit, corpus: corpus))
        self.bearerToken = bearerToken
        self.sizeLimit = sizeLimit
        self.log = log
        self.server = HTTPServer(address: try .inet(ip4: host, port: port), timeout: 30, logger: .disabled)
    }

    /// What has been done so far.
    package var currentCounts: Counts { counts }

    /// The port the server listens on, once listening.
    package func listeningPort() async -> UInt16? {
        switch await server.listeningAddress {
        case .ip4(let address, let port)?: return address.isEmpty ? port : port
        default: return nil
        }
    }

    /// Serves until ``stop()``; returns when the server has stopped.
    package func run() async throws {
        // An acknowledgement must survive a power cut, not only a crash of this process.
        try await store.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        await server.appendRoute("GET /-/ready") { _ in
            FlyingFox.HTTPResponse(statusCode: .ok, body: Data("ready\n".utf8))
        }
        await server.appendRoute("GET /-/healthy") { _ in
            FlyingFox.HTTPResponse(statusCode: .ok, body: Data("ok\n".utf8))
        }
        await server.appendRoute("POST *") { [weak self] request in
            guard let self else { return FlyingFox.HTTPResponse(statusCode: .serviceUnavailable) }
            return await self.receive(request)
        }
        try await server.run()
    }

    /// Waits until the server accepts connections.
    package func waitUntilListening() async throws { try await server.waitUntilListening(timeout: 10) }

    /// Stops accepting connections and lets requests in flight finish (up to `timeout` seconds): every delivery
    /// that was acknowledged is already committed.
    package func stop(timeout: TimeInterval = 10) async { await server.stop(timeout: timeout) }

    private func receive(_ request: FlyingFox.HTTPRequest) async -> FlyingFox.HTTPResponse {
        let receivedAt = Date().timeIntervalSince1970
        sequence += 1
        counts.received += 1
        let number = sequence
        if let bearerToken, request.headers[.authorization] != "Bearer \(bearerToken)" {
            counts.refused += 1
            log("#\(number) 401: missing or wrong bearer token")
            return Self.json(.unauthorized, ["error": "missing or wrong bearer token"])
        }
        let body: Data
        do {
            body = try await request.bodyData
        } catch {
            counts.refused += 1
            log("#\(number) 400: the body could not be read: \(error)")
            return Self.json(.badRequest, ["error": "the body could not be read"])
        }
        var remote = "unknown"
        switch request.remoteAddress {
        case .ip4(let host, let port)?: remote = "\(host):\(port)"
        case .ip6(let host, let port)?: remote = "[\(host)]:\(port)"
        default: break
        }
        let source = "capture:\(request.path)#\(number) from \(remote)"
        let unit = body.withUnsafeBytes { raw in
            DeliveryWriter.prepare(
                unit: raw.bindMemory(to: UInt8.self), source: source, receivedAt: receivedAt, sizeLimit: sizeLimit)
        }
        let writer = self.writer
        let outcome: UnitOutcome
        do {
            outcome = try await store.queue.write { db in try writer.writer.commit(db, unit) }
        } catch {
            // Not stored: a 5xx makes Alertmanager retry.
            log("#\(number) 503: not stored: \(error)")
            return Self.json(.serviceUnavailable, ["error": "not stored: \(error)"])
        }
        switch outcome {
        case .stored(let deliveryId, let incidentId, let opened, let closed):
            counts.stored += 1
            let change = opened ? " (opened)" : closed ? " (resolved)" : ""
            log("#\(number) 200: stored delivery \(deliveryId) in \(incidentId ?? "no open incident")\(change)")
            return Self.json(
                .ok, ["status": "stored", "delivery": String(deliveryId), "incident": incidentId ?? ""])
        case .duplicate(let deliveryId):
            counts.duplicates += 1
            log("#\(number) 200: duplicate of delivery \(deliveryId)")
            return Self.json(.ok, ["status": "duplicate", "delivery": String(deliveryId)])
        case .quarantined(let reason):
            counts.quarantined += 1
            if case .tooLarge = reason {
                log("#\(number) 413: quarantined: \(reason.description)")
                return Self.json(.payloadTooLarge, ["error": reason.description])
            }
            log("#\(number) 400: quarantined: \(reason.description)")
            return Self.json(.badRequest, ["error": reason.description])
        }
    }

    private static func json(_ status: HTTPStatusCode, _ fields: [String: String]) -> FlyingFox.HTTPResponse {
        let members = fields.keys.sorted().map { ($0, JSONValue.string(fields[$0]!)) }
        return FlyingFox.HTTPResponse(
            statusCode: status, headers: [.contentType: "application/json"],
            body: Data((PythonJSONEncoder.string(.object(members)) + "\n").utf8))
    }
}

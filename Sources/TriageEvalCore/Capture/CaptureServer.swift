import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import NIOPosix

/// An Alertmanager webhook receiver that stores each delivery exactly as `ingest` would.
///
/// - `POST` (any path): the body is stored through ``DeliveryWriter`` — one trailing LF stripped, deduplicated by
///   SHA-256, incidents rebuilt, bad input quarantined — with its receive time, and only then answered: `200`
///   once the write transaction has committed (with `synchronous = FULL`), so a delivery Alertmanager saw
///   acknowledged survives a crash, and one that was not is retried by Alertmanager. `400` with the reason when
///   it is not a webhook body (kept in quarantine); `401` without the bearer token, when one is required.
/// - A body over the size limit is answered `413` as soon as `Content-Length` says so, or when the limit is
///   crossed while a chunked body streams in, and is never buffered: what arrives is hashed and dropped, and a
///   quarantine row keeps its size, that hash and its first 4 KiB.
/// - A request line or header over ``Limits`` is answered `431` and the connection closed; headers are parsed
///   by SwiftNIO's HTTP/1 decoder (llhttp) in linear time.
/// - `GET /-/ready` (and `/-/healthy`): `200` while serving, whatever other clients are doing: every connection
///   is served on its own, bounded in memory and closed after ``Limits/idleTimeout`` of silence.
/// - Deliveries are received concurrently and stored one at a time, in arrival order.
///
/// Built on SwiftNIO rather than FlyingFox (used before): FlyingFox buffers every body whole before a handler
/// sees it and parses headers with no size limit in quadratic time; NIO's decoder has both limits, and its
/// streamed body parts let the size limit hold while reading. Hummingbird, on NIO, answers every parser error
/// `400` and cannot be told to answer `431`.
package actor CaptureServer {
    /// What the receiver has done so far.
    package struct Counts: Sendable, Equatable {
        package var received = 0
        package var stored = 0
        package var duplicates = 0
        package var quarantined = 0
        package var refused = 0
    }

    /// The bounds on a request.
    package struct Limits: Sendable {
        /// The largest header line (name and value), or request line: 8 KiB.
        package var headerLineBytes = 8 * 1024
        /// The largest request line and headers in all: 32 KiB.
        package var headerBytes = 32 * 1024
        /// The most header fields: 100.
        package var headerFields = 100
        /// How long a connection may stay silent (between or inside requests) before it is closed: 30 s.
        package var idleTimeout: TimeAmount = .seconds(30)
        /// How much of a refused body is read (and hashed) before the connection is closed, so that the client
        /// reads the answer instead of a reset: 64 MiB.
        package var drainBytes = 64 << 20

        package init() {}
    }

    /// A line for the log: what happened to one request.
    package typealias Log = @Sendable (String) -> Void

    private let store: Store
    private let writer: WriterBox
    private let bearerToken: [UInt8]?
    private let sizeLimit: Int
    private let limits: Limits
    private let host: String
    private let port: Int
    private let log: Log
    private var counts = Counts()
    private var sequence = 0
    private let group: MultiThreadedEventLoopGroup
    private var serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>?
    private var listening: [CheckedContinuation<Void, any Error>] = []
    private var listenFailure: (any Error)?
    private var stopping = false
    private var connections: [Int: Connection] = [:]
    private var nextConnection = 0

    private struct Connection {
        var channel: any Channel
        var busy = false
    }

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
    ///   - host: the address to listen on: IPv4 (`127.0.0.1`, `0.0.0.0`), IPv6 (`::1`) or a host name.
    ///   - port: the port (0 for any free one).
    ///   - corpus: the corpus recorded on stored deliveries.
    ///   - sizeLimit: bodies larger than this are answered 413 and quarantined.
    ///   - bearerToken: when set, requests must send `Authorization: Bearer <token>`.
    ///   - limits: the bounds on a request's headers and on idle connections.
    package init(
        store: Store, host: String, port: UInt16, corpus: String?, sizeLimit: Int = WebhookPayload.defaultSizeLimit,
        bearerToken: String?, limits: Limits = Limits(), log: @escaping Log
    ) {
        self.store = store
        self.writer = WriterBox(DeliveryWriter(sizeLimit: sizeLimit, corpus: corpus))
        self.bearerToken = bearerToken.map { Array($0.utf8) }
        self.sizeLimit = sizeLimit
        self.limits = limits
        self.host = host
        self.port = Int(port)
        self.log = log
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// What has been done so far.
    package var currentCounts: Counts { counts }

    /// The port the server listens on, once listening.
    package func listeningPort() -> UInt16? {
        (serverChannel?.channel.localAddress?.port).map { UInt16($0) }
    }

    /// Serves until ``stop(timeout:)``; returns when the server has stopped.
    /// - Throws: ``CaptureError/cannotListen(_:_:)`` when the address cannot be bound.
    package func run() async throws {
        let limits = self.limits
        let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            // An acknowledgement must survive a power cut, not only a crash of this process.
            try await store.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { child in
                    child.eventLoop.makeCompletedFuture {
                        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                        decoderLimits.maxHeaderFieldSize = limits.headerLineBytes
                        decoderLimits.maxHeaderListSize = limits.headerBytes
                        decoderLimits.maxHeaderFieldCount = limits.headerFields
                        let pipeline = child.pipeline.syncOperations
                        try pipeline.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
                        try pipeline.addHandler(CloseWhenIdle())
                        try pipeline.configureHTTPServerPipeline(
                            // Requests on one connection are served in order by `serve`, which is the assistance.
                            withPipeliningAssistance: false, withErrorHandling: false,
                            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: child,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            let failure: any Error =
                error is DatabaseError ? error : CaptureError.cannotListen("\(host):\(port)", Self.describe(error))
            listenFailure = failure
            listening.forEach { $0.resume(throwing: failure) }
            listening = []
            try? await group.shutdownGracefully()
            throw failure
        }
        serverChannel = channel
        listening.forEach { $0.resume() }
        listening = []
        try await channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { tasks in
                for try await connection in inbound {
                    tasks.addTask { await self.serve(connection) }
                }
            }
        }
        try? await group.shutdownGracefully()
    }

    /// Waits until the server accepts connections.
    /// - Throws: ``CaptureError/cannotListen(_:_:)`` when it cannot.
    package func waitUntilListening() async throws {
        if serverChannel != nil { return }
        if let listenFailure { throw listenFailure }
        try await withCheckedThrowingContinuation { listening.append($0) }
    }

    /// Stops accepting connections, closes idle ones and lets requests in flight finish (up to `timeout`
    /// seconds): every delivery that was acknowledged is already committed.
    package func stop(timeout: TimeInterval = 10) async {
        stopping = true
        _ = try? await serverChannel?.channel.close()
        for connection in connections.values where !connection.busy { connection.channel.close(promise: nil) }
        let deadline = Date().addingTimeInterval(timeout)
        while !connections.isEmpty, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        for connection in connections.values { connection.channel.close(promise: nil) }
    }

    // MARK: - Connections

    private func register(_ channel: any Channel) -> Int? {
        guard !stopping else { return nil }
        nextConnection += 1
        connections[nextConnection] = Connection(channel: channel)
        return nextConnection
    }

    private func unregister(_ id: Int) { connections[id] = nil }

    /// Marks a connection busy (inside a request) or idle; returns whether it should go on (not stopping).
    private func setBusy(_ id: Int, _ busy: Bool) -> Bool {
        connections[id]?.busy = busy
        return !stopping
    }

    /// A request being read: its head, and its body so far (bounded by the size limit).
    private struct PendingRequest {
        var head: HTTPRequestHead
        var number: Int
        var receivedAt: Double
        var body: ByteBuffer
        /// Set once the body is refused (over the limit, or the request unauthorised): the rest is only drained.
        var refusal: Refusal?
    }

    /// A refused body being drained: hashed and counted, never kept (but for its first 4 KiB).
    private struct Refusal {
        var status: HTTPResponseStatus
        /// Whether to quarantine what was read once drained (a too-large body; not an unauthorised one).
        var quarantines: Bool
        var declaredBytes: Int?
        var digest = StreamingDigest()
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        guard let id = register(connection.channel) else {
            connection.channel.close(promise: nil)
            return
        }
        defer { unregister(id) }
        let remote = Self.describe(connection.channel.remoteAddress)
        try? await connection.executeThenClose { inbound, outbound in
            var request: PendingRequest?
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        _ = setBusy(id, true)
                        var pending = PendingRequest(
                            head: head, number: nextNumber(), receivedAt: Date().timeIntervalSince1970,
                            body: ByteBuffer(), refusal: nil)
                        if let (status, fields, refusal) = check(head, number: pending.number) {
                            try await Self.write(status, fields, to: outbound, close: true)
                            pending.refusal = refusal
                        }
                        request = pending
                    case .body(let buffer):
                        guard var pending = request else { continue }
                        if pending.refusal != nil {
                            pending.refusal!.digest.update(buffer)
                            request = pending
                            if pending.refusal!.digest.byteCount > limits.drainBytes {
                                await finishRefusal(pending, remote: remote)
                                return
                            }
                            continue
                        }
                        if pending.body.readableBytes + buffer.readableBytes > sizeLimit {
                            // A chunked (or lying) body crossed the limit while streaming.
                            var refusal = Refusal(status: .payloadTooLarge, quarantines: true, declaredBytes: nil)
                            refusal.digest.update(pending.body)
                            refusal.digest.update(buffer)
                            pending.body = ByteBuffer()
                            pending.refusal = refusal
                            request = pending
                            let reason = "too large: more than \(sizeLimit) bytes, the limit is \(sizeLimit)"
                            log("#\(pending.number) 413: quarantined: \(reason)")
                            try await Self.write(.payloadTooLarge, ["error": reason], to: outbound, close: true)
                            continue
                        }
                        var chunk = buffer
                        pending.body.writeBuffer(&chunk)
                        request = pending
                    case .end:
                        guard let pending = request else { continue }
                        request = nil
                        if pending.refusal != nil {
                            await finishRefusal(pending, remote: remote)
                            return
                        }
                        let (status, fields) = await receive(pending, remote: remote)
                        let goOn = setBusy(id, false)
                        try await Self.write(status, fields, to: outbound, close: !goOn || !pending.head.isKeepAlive)
                        if !goOn || !pending.head.isKeepAlive { return }
                    }
                }
                // The client left: a refused body is still accounted for.
                if let pending = request, pending.refusal != nil { await finishRefusal(pending, remote: remote) }
            } catch let error as HTTPParserError {
                if let pending = request, pending.refusal != nil {
                    await finishRefusal(pending, remote: remote)
                    return
                }
                let number = nextNumber()
                counts.refused += 1
                if error == .headerOverflow {
                    log("#\(number) 431: request line or headers over the limits, from \(remote)")
                    try? await Self.write(
                        .requestHeaderFieldsTooLarge,
                        [
                            "error": "request line or headers too large (a line over \(limits.headerLineBytes) bytes, "
                                + "\(limits.headerBytes) in all, or more than \(limits.headerFields) fields)"
                        ],
                        to: outbound, close: true)
                } else {
                    log("#\(number) 400: malformed request from \(remote): \(error)")
                    try? await Self.write(.badRequest, ["error": "malformed HTTP request"], to: outbound, close: true)
                }
            } catch {
                if let pending = request, pending.refusal != nil { await finishRefusal(pending, remote: remote) }
            }
        }
    }

    private func nextNumber() -> Int {
        sequence += 1
        counts.received += 1
        return sequence
    }

    /// What to answer at once, from the head alone: a missing or wrong token, or a declared size over the limit.
    private func check(
        _ head: HTTPRequestHead, number: Int
    ) -> (HTTPResponseStatus, [String: String], Refusal)? {
        if head.method == .GET, head.uri == "/-/ready" || head.uri == "/-/healthy" { return nil }
        if let bearerToken {
            let values = head.headers["Authorization"]
            let error: String? =
                values.count > 1
                ? "more than one Authorization header"
                : values.first.map { Self.matches(Array($0.utf8), "Bearer ".utf8 + bearerToken) } == true
                    ? nil : "missing or wrong bearer token"
            if let error {
                counts.refused += 1
                log("#\(number) 401: \(error)")
                return (.unauthorized, ["error": error], Refusal(status: .unauthorized, quarantines: false))
            }
        }
        guard head.method == .POST else { return nil }
        let lengths = head.headers["Content-Length"]
        if let declared = lengths.first.flatMap({ Int($0) }), declared > sizeLimit {
            let reason = QuarantineReason.tooLarge(bytes: declared, limit: sizeLimit).description
            log("#\(number) 413: quarantined: \(reason)")
            return (
                .payloadTooLarge, ["error": reason],
                Refusal(status: .payloadTooLarge, quarantines: true, declaredBytes: declared)
            )
        }
        return nil
    }

    /// Compares a presented credential with the expected one in time that depends only on their lengths.
    package static func matches(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        // Unequal lengths never match. (Folding the lengths' XOR into a byte, as this did, let a token followed by
        // 256 NUL bytes match.)
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in 0..<max(presented.count, expected.count) {
            let a = index < presented.count ? presented[index] : 0
            let b = index < expected.count ? expected[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }

    /// Quarantines a drained too-large body: its size (declared, or read), the hash of what was read, its first
    /// bytes.
    private func finishRefusal(_ pending: PendingRequest, remote: String) async {
        guard let refusal = pending.refusal, refusal.quarantines else { return }
        counts.quarantined += 1
        let fragment = LineReader.Fragment(
            prefix: refusal.digest.prefix, byteCount: refusal.declaredBytes ?? refusal.digest.byteCount,
            sha256: refusal.digest.hex(), breakReason: nil)
        let unit = DeliveryWriter.prepare(
            fragment: fragment, source: Self.source(pending.head.uri, number: pending.number, remote: remote),
            receivedAt: pending.receivedAt, sizeLimit: sizeLimit)
        let writer = self.writer
        do {
            _ = try await store.queue.write { db in try writer.writer.commit(db, unit) }
        } catch {
            log("#\(pending.number): the quarantine row was not stored: \(error)")
        }
    }

    /// Handles a complete request: the ready and health checks, or a delivery.
    private func receive(_ pending: PendingRequest, remote: String) async -> (HTTPResponseStatus, [String: String]) {
        let head = pending.head
        let number = pending.number
        if head.method == .GET, head.uri == "/-/ready" { return (.ok, ["status": "ready"]) }
        if head.method == .GET, head.uri == "/-/healthy" { return (.ok, ["status": "ok"]) }
        guard head.method == .POST else {
            counts.refused += 1
            log("#\(number) 405: \(head.method) is not accepted")
            return (.methodNotAllowed, ["error": "only POST (deliveries) and GET /-/ready are served"])
        }
        let bytes = pending.body.readableBytesView
        let unit = Array(bytes).withUnsafeBufferPointer {
            DeliveryWriter.prepare(
                unit: $0, source: Self.source(head.uri, number: number, remote: remote),
                receivedAt: pending.receivedAt, sizeLimit: sizeLimit)
        }
        let writer = self.writer
        let outcome: UnitOutcome
        do {
            outcome = try await store.queue.write { db in try writer.writer.commit(db, unit) }
        } catch {
            // Not stored: a 5xx makes Alertmanager retry.
            log("#\(number) 503: not stored: \(error)")
            return (.serviceUnavailable, ["error": "not stored: \(error)"])
        }
        switch outcome {
        case .stored(let deliveryId, let incidentId, let opened, let closed):
            counts.stored += 1
            let change = opened ? " (opened)" : closed ? " (resolved)" : ""
            log("#\(number) 200: stored delivery \(deliveryId) in \(incidentId ?? "no open incident")\(change)")
            return (.ok, ["status": "stored", "delivery": String(deliveryId), "incident": incidentId ?? ""])
        case .duplicate(let deliveryId):
            counts.duplicates += 1
            log("#\(number) 200: duplicate of delivery \(deliveryId)")
            return (.ok, ["status": "duplicate", "delivery": String(deliveryId)])
        case .quarantined(let reason):
            counts.quarantined += 1
            if case .tooLarge = reason {
                log("#\(number) 413: quarantined: \(reason.description)")
                return (.payloadTooLarge, ["error": reason.description])
            }
            log("#\(number) 400: quarantined: \(reason.description)")
            return (.badRequest, ["error": reason.description])
        }
    }

    /// A delivery's source: `capture:<path>#<n> from <peer>`, the path as sent (not percent-decoded) with every
    /// byte outside printable ASCII, and `%`, percent-encoded, so that no request can write a line break or a
    /// forged field into the source.
    package static func source(_ uri: String, number: Int, remote: String) -> String {
        var path = ""
        for byte in uri.utf8.prefix(1024) {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                path.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                path += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        if uri.utf8.count > 1024 { path += "…" }
        return "capture:\(path)#\(number) from \(remote)"
    }

    private static func write(
        _ status: HTTPResponseStatus, _ fields: [String: String],
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, close: Bool
    ) async throws {
        let members = fields.keys.sorted().map { ($0, JSONValue.string(fields[$0]!)) }
        let body = ByteBuffer(string: PythonJSONEncoder.string(.object(members)) + "\n")
        var headers = HTTPHeaders([
            ("Content-Type", "application/json"), ("Content-Length", String(body.readableBytes)),
        ])
        if close { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(body)))
        try await outbound.write(.end(nil))
    }

    private static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        return "\(error)"
    }
}

/// Errors starting the receiver.
package enum CaptureError: SetUpError, Equatable {
    case cannotListen(String, String)

    package var errorDescription: String? {
        switch self {
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        }
    }
}

/// A SHA-256 over streamed body parts, with the count and the first 4 KiB kept.
struct StreamingDigest {
    private var hasher = Digest.Hasher()
    private(set) var byteCount = 0
    private(set) var prefix: [UInt8] = []

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { raw in
            hasher.update(raw)
            byteCount += raw.count
            if prefix.count < LineReader.fragmentPrefixBytes {
                prefix += raw.prefix(LineReader.fragmentPrefixBytes - prefix.count)
            }
        }
    }

    func hex() -> String { hasher.hex() }
}

/// Closes a connection that has been silent for the idle timeout.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

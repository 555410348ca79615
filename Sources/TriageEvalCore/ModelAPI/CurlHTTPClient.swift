import CCurl
import Foundation
import Synchronization

/// The live HTTP client: libcurl's multi interface driven by one thread of its own (`curl_multi_poll` blocks,
/// and a cooperative thread must never block; callers await continuations, so the rest is structured).
///
/// Every call becomes a transfer on one `CURLM` handle, which keeps up to `connections` keep-alive connections per
/// host (HTTP/1.1 on loopback servers, HTTP/2 multiplexing where the API offers it over TLS) and moves all of them
/// with one `curl_multi_poll` loop; a finished transfer resumes its caller's continuation. One thread serves any
/// concurrency, where URLSession (also libcurl underneath on Linux) spends a dispatch hop, a timer and a
/// `URLRequest`/`HTTPURLResponse` pair per call — `scripts/bench-runner` measures the difference.
///
/// The API key travels only in the header list handed to libcurl for the transfer and is freed with it.
///
/// libcurl itself sends a request again, once, when a reused keep-alive connection turns out to be dead before
/// any byte of the response (the server closed it while it was idle); that is not an attempt of the runner's
/// retry policy. Every other failure — a refused or reset connection, a timeout — is a ``TransportError``.
package final class CurlHTTPClient: HTTPClient {
    private let loop: Loop

    /// A client keeping at most `connections` connections per host.
    /// - Throws: ``TransportError/connection(_:)`` when libcurl cannot be initialised.
    package init(connections: Int) throws {
        loop = try Loop(connections: max(1, connections))
        let loop = self.loop
        let thread = Thread { loop.run() }
        thread.name = "triage-eval.curl"
        thread.start()
    }

    deinit { loop.stop() }

    package func send(_ request: HTTPRequest, authorization: (String, String)?) async throws -> HTTPResponse {
        var headers = request.headers
        if let authorization { headers.append(authorization) }
        // libcurl adds `Expect: 100-continue` to larger POST bodies, costing a round trip; an empty value drops it.
        headers.append(("Expect", ""))
        let lines = headers.map { name, value in value.isEmpty ? "\(name):" : "\(name): \(value)" }
        return try await withCheckedThrowingContinuation { continuation in
            loop.submit(
                Submission(
                    url: request.url.absoluteString, headerLines: lines, body: request.body,
                    timeoutMilliseconds: max(1, Int(request.timeout * 1000)), continuation: continuation))
        }
    }

    /// A call waiting to be started by the loop.
    fileprivate struct Submission: Sendable {
        var url: String
        var headerLines: [String]
        var body: [UInt8]
        var timeoutMilliseconds: Int
        var continuation: CheckedContinuation<HTTPResponse, any Error>
    }

    /// One easy handle and what its current transfer has received. Reused from call to call; touched only by the
    /// loop's thread and the libcurl callbacks it runs.
    fileprivate final class Transfer {
        let easy: UnsafeMutableRawPointer
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var continuation: CheckedContinuation<HTTPResponse, any Error>? = nil

        init?() {
            guard let easy = curl_easy_init() else { return nil }
            self.easy = easy
        }

        deinit {
            curl_slist_free_all(headerList)
            curl_easy_cleanup(easy)
            errorBuffer.deallocate()
        }

        /// Forgets the last transfer, keeping the handle (and the buffers' capacity).
        func reset() {
            curl_slist_free_all(headerList)
            headerList = nil
            curl_easy_reset(easy)
            headers.removeAll(keepingCapacity: true)
            body.removeAll(keepingCapacity: true)
            continuation = nil
            errorBuffer[0] = 0
        }

        /// Takes one header line: a status line starts the headers of a new response (after a `100 Continue`).
        func receiveHeader(_ line: UnsafeBufferPointer<UInt8>) {
            // Trimmed of CR LF, which is one Character in Swift.
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasPrefix("HTTP/") {
                headers.removeAll(keepingCapacity: true)
                return
            }
            guard let colon = text.firstIndex(of: ":") else { return }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if let earlier = headers[name] { headers[name] = earlier + ", " + value } else { headers[name] = value }
        }
    }

    /// The thread-side state: the multi handle, transfers in flight, idle handles, and the submissions inbox.
    fileprivate final class Loop: @unchecked Sendable {
        // `multi` is used by `curl_multi_wakeup` from any thread (which libcurl allows) and otherwise only by the
        // loop's thread; so are `active` and `idle`. The inbox and the stop flag are synchronised.
        private let multi: UnsafeMutableRawPointer
        private let inbox = Mutex<[Submission]>([])
        private let stopping = Atomic<Bool>(false)
        private var active: [UnsafeMutableRawPointer: Transfer] = [:]
        private var idle: [Transfer] = []

        init(connections: Int) throws {
            let code = ccurl_global_init()
            guard code == CURLE_OK else {
                throw TransportError.connection("libcurl: \(String(cString: curl_easy_strerror(code)))")
            }
            guard let multi = curl_multi_init() else { throw TransportError.connection("libcurl: no multi handle") }
            self.multi = multi
            _ = ccurl_multi_limit_connections(multi, connections)
        }

        func submit(_ submission: Submission) {
            let accepted = inbox.withLock { inbox -> Bool in
                guard !stopping.load(ordering: .acquiring) else { return false }
                inbox.append(submission)
                return true
            }
            guard accepted else {
                submission.continuation.resume(throwing: TransportError.connection("the HTTP client was closed"))
                return
            }
            curl_multi_wakeup(multi)
        }

        func stop() {
            inbox.withLock { _ in stopping.store(true, ordering: .releasing) }
            curl_multi_wakeup(multi)
        }

        /// The loop: start what was submitted, move the transfers, hand back what finished, wait for sockets or a
        /// wake-up. Ends once stopped with nothing in flight.
        func run() {
            var running: Int32 = 0
            var remaining: Int32 = 0
            while true {
                let submissions = inbox.withLock { inbox in
                    defer { inbox.removeAll(keepingCapacity: true) }
                    return inbox
                }
                for submission in submissions { start(submission) }
                if active.isEmpty && stopping.load(ordering: .acquiring) && inbox.withLock({ $0.isEmpty }) { break }
                curl_multi_perform(multi, &running)
                while let message = curl_multi_info_read(multi, &remaining) {
                    guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                    finish(easy, result: ccurl_message_result(message))
                }
                curl_multi_poll(multi, nil, 0, 1000, nil)
            }
            idle.removeAll()
            curl_multi_cleanup(multi)
        }

        private func start(_ submission: Submission) {
            guard let transfer = idle.popLast() ?? Transfer() else {
                submission.continuation.resume(throwing: TransportError.connection("libcurl: no easy handle"))
                return
            }
            for line in submission.headerLines { transfer.headerList = curl_slist_append(transfer.headerList, line) }
            transfer.continuation = submission.continuation
            let context = Unmanaged.passUnretained(transfer).toOpaque()
            let code = submission.body.withUnsafeBytes { body in
                ccurl_prepare_post(
                    transfer.easy, submission.url, body.baseAddress, body.count, transfer.headerList,
                    submission.timeoutMilliseconds, Loop.onBody, Loop.onHeader, context, transfer.errorBuffer)
            }
            guard code == CURLE_OK else {
                complete(transfer, with: .failure(TransportError.connection(Self.describe(code, transfer))))
                return
            }
            active[transfer.easy] = transfer
            let added = curl_multi_add_handle(multi, transfer.easy)
            if added != CURLM_OK {
                active[transfer.easy] = nil
                let detail = String(cString: curl_multi_strerror(added))
                complete(transfer, with: .failure(TransportError.connection("libcurl: \(detail)")))
            }
        }

        private func finish(_ easy: UnsafeMutableRawPointer, result: CURLcode) {
            guard let transfer = active.removeValue(forKey: easy) else { return }
            curl_multi_remove_handle(multi, easy)
            switch result {
            case CURLE_OK:
                let response = HTTPResponse(
                    status: ccurl_response_code(easy), headers: transfer.headers, body: transfer.body)
                complete(transfer, with: .success(response))
            case CURLE_OPERATION_TIMEDOUT:
                complete(transfer, with: .failure(TransportError.timeout))
            default:
                complete(transfer, with: .failure(TransportError.connection(Self.describe(result, transfer))))
            }
        }

        private func complete(_ transfer: Transfer, with result: Result<HTTPResponse, TransportError>) {
            let continuation = transfer.continuation
            transfer.reset()
            idle.append(transfer)
            continuation?.resume(with: result.mapError { $0 as any Error })
        }

        private static func describe(_ code: CURLcode, _ transfer: Transfer) -> String {
            let detail = String(cString: transfer.errorBuffer)
            return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        }

        private static let onBody: ccurl_data_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            transfer.body.append(contentsOf: bytes)
            return size * count
        }

        private static let onHeader: ccurl_data_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            transfer.receiveHeader(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count))
            return size * count
        }
    }
}

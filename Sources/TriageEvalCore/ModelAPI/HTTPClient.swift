import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a call got no HTTP response.
package enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No response within the timeout.
    case timeout
    /// The connection failed or was reset.
    case connection(String)

    package var description: String {
        switch self {
        case .timeout: return "timeout"
        case .connection(let detail): return "connection error: \(detail)"
        }
    }
}

/// Sends HTTP requests to a model API. Tests inject fakes; the live client is ``URLSessionHTTPClient``.
package protocol HTTPClient: Sendable {
    /// Sends one request.
    /// - Throws: ``TransportError`` when no response arrived.
    func send(_ request: HTTPRequest, authorization: (String, String)?) async throws -> HTTPResponse
}

/// The HTTP client: Foundation's URLSession, which on Linux is built on libcurl.
///
/// URLSession is chosen over a hand-written libcurl binding or async-http-client because it ships with the
/// toolchain (no extra build time), speaks HTTP/1.1 and TLS through the system's libcurl and OpenSSL, and its
/// completion API fits the runner's task group; `scripts/bench-runner` measures its throughput.
package final class URLSessionHTTPClient: HTTPClient {
    private let session: URLSession

    /// A client allowing `connections` parallel connections per host.
    package init(connections: Int) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(1, connections)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    package func send(_ request: HTTPRequest, authorization: (String, String)?) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = "POST"
        urlRequest.timeoutInterval = request.timeout
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if let (name, value) = authorization { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = Data(request.body)
        // The completion-handler API, not `data(for:)`: on Linux, cancelling a task whose `data(for:)` is
        // completing can deadlock in FoundationNetworking; a call here always ends by itself (its timeout).
        let session = self.session
        return try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: urlRequest) { data, response, error in
                if let error {
                    let timedOut = (error as? URLError)?.code == .timedOut
                    continuation.resume(
                        throwing: timedOut
                            ? TransportError.timeout : TransportError.connection(error.localizedDescription))
                    return
                }
                guard let http = response as? HTTPURLResponse else {
                    continuation.resume(throwing: TransportError.connection("not an HTTP response"))
                    return
                }
                var headers: [String: String] = [:]
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
                }
                continuation.resume(
                    returning: HTTPResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data())))
            }
            task.resume()
        }
    }
}

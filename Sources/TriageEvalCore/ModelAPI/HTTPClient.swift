import Foundation

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

/// Sends HTTP requests to a model API. Tests inject fakes; the live client is ``CurlHTTPClient``.
package protocol HTTPClient: Sendable {
    /// Sends one request.
    /// - Throws: ``TransportError`` when no response arrived.
    func send(_ request: HTTPRequest, authorization: (String, String)?) async throws -> HTTPResponse
}

import ArgumentParser
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TriageEvalCore

extension TriageEval {
    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive Alertmanager webhooks and store each delivery as 'ingest' would.",
            discussion: """
                Point an Alertmanager webhook receiver at it. Each POST body is stored with its receive time \
                (one trailing newline stripped, deduplicated, incidents rebuilt, bad input quarantined) and \
                answered 200 only once it is committed to SQLite, so Alertmanager retries anything not stored. \
                A body over --max-body-bytes is answered 413 as soon as its Content-Length says so (or when a \
                chunked body crosses the limit) and is never buffered: a quarantine row keeps its size, the \
                SHA-256 and first 4 KiB of what was read. A body that is not a webhook is answered 400 with the \
                reason and kept in quarantine. A request line or header over 8 KiB, headers over 32 KiB in all or \
                more than 100 header fields are answered 431; a connection silent for 30 s is closed. GET \
                /-/ready answers 200 while serving. With --bearer-token-env, requests must send exactly one \
                'Authorization: Bearer <token>' (Alertmanager's http_config.authorization); the token is read \
                from that environment variable and never logged or stored.

                SIGINT or SIGTERM stops it cleanly: requests in flight finish, and every acknowledged delivery \
                is already stored.

                Alertmanager configuration:
                  receivers:
                    - name: triage-eval
                      webhook_configs:
                        - url: http://127.0.0.1:9095/alerts
                          send_resolved: true
                          max_alerts: 0

                Exit codes: 0 stopped by a signal; 2 a set-up error (the address is in use or invalid, the \
                token variable is unset).

                Example:
                  triage-eval capture --listen 127.0.0.1:9095 --db history.sqlite --corpus prod
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(
            help: ArgumentHelp(
                "The address and port to listen on: IPv4, [IPv6] or a host name.", valueName: "host:port"))
        var listen = "127.0.0.1:9095"

        @Option(help: ArgumentHelp("The corpus recorded on stored deliveries.", valueName: "name"))
        var corpus: String?

        @Option(help: ArgumentHelp("The largest body accepted, in bytes (at most 256 MiB).", valueName: "bytes"))
        var maxBodyBytes = WebhookPayload.defaultSizeLimit

        @Option(
            help: ArgumentHelp(
                "The environment variable holding the bearer token requests must send.", valueName: "variable"))
        var bearerTokenEnv: String?

        func validate() throws {
            if let problem = WebhookPayload.sizeLimitProblem(maxBodyBytes, flag: "--max-body-bytes") {
                throw ValidationError(problem)
            }
            guard Self.split(listen) != nil else {
                throw ValidationError("--listen must be host:port (got '\(listen)')")
            }
        }

        static func split(_ address: String) -> (host: String, port: UInt16)? {
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...])
            else { return nil }
            var host = address[..<colon]
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { return nil }
            return (String(host), port)
        }

        func run() async throws {
            let (host, port) = Self.split(listen)!
            let server = try reportingSetupErrors { () throws -> CaptureServer in
                var token: String?
                if let bearerTokenEnv {
                    guard let value = ProcessInfo.processInfo.environment[bearerTokenEnv], !value.isEmpty else {
                        throw CaptureSetupError.noToken(bearerTokenEnv)
                    }
                    token = value
                }
                return CaptureServer(
                    store: try store.open(), host: host, port: port, corpus: corpus, sizeLimit: maxBodyBytes,
                    bearerToken: token, log: { printError("capture: \($0)") })
            }
            // Signals are caught before the server listens, so that one sent as soon as "listening" is printed
            // is never lost (ignored before its source was armed, it left capture running).
            let (signals, continuation) = AsyncStream<Int32>.makeStream()
            let sources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
            let serving = Task { try await server.run() }
            do {
                try await server.waitUntilListening()
            } catch {
                _ = await Self.failure(of: serving)
                _ = try reportingSetupErrors { throw error }
            }
            let actualPort = await server.listeningPort() ?? port
            printError("capture: listening on http://\(host):\(actualPort) (Ctrl-C to stop)")
            var iterator = signals.makeAsyncIterator()
            _ = await iterator.next()
            printError("capture: stopping; requests in flight finish")
            // Acknowledged deliveries are committed already; this only lets a write in progress finish.
            await server.stop(timeout: 2)
            _ = await Self.failure(of: serving)
            let counts = await server.currentCounts
            printError(
                "capture: \(counts.received) received: \(counts.stored) stored, \(counts.duplicates) duplicate, "
                    + "\(counts.quarantined) quarantined, \(counts.refused) refused")
        }

        private static func failure(of task: Task<Void, any Error>) async -> String? {
            do {
                try await task.value
                return nil
            } catch {
                return "\(error)"
            }
        }
    }
}

enum CaptureSetupError: SetUpError {
    case noToken(String)

    var errorDescription: String? {
        switch self {
        case .noToken(let variable): return "--bearer-token-env: the environment variable \(variable) is not set"
        }
    }
}

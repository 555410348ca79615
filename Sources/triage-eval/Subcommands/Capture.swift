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
                A body over --max-body-bytes is answered 413, one that is not a webhook 400 with the reason; both \
                are kept in quarantine. GET /-/ready answers 200 while serving. With --bearer-token-env, requests \
                must send 'Authorization: Bearer <token>' (Alertmanager's http_config.authorization); the token \
                is read from that environment variable and never logged or stored.

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

        @Option(help: ArgumentHelp("The IPv4 address and port to listen on.", valueName: "host:port"))
        var listen = "127.0.0.1:9095"

        @Option(help: ArgumentHelp("The corpus recorded on stored deliveries.", valueName: "name"))
        var corpus: String?

        @Option(help: ArgumentHelp("The largest body accepted, in bytes.", valueName: "bytes"))
        var maxBodyBytes = WebhookPayload.defaultSizeLimit

        @Option(
            help: ArgumentHelp(
                "The environment variable holding the bearer token requests must send.", valueName: "variable"))
        var bearerTokenEnv: String?

        func validate() throws {
            guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
            guard Self.split(listen) != nil else {
                throw ValidationError("--listen must be host:port (got '\(listen)')")
            }
        }

        static func split(_ address: String) -> (host: String, port: UInt16)? {
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...])
            else { return nil }
            return (String(address[..<colon]), port)
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
                return try CaptureServer(
                    store: try store.open(), host: host, port: port, corpus: corpus, sizeLimit: maxBodyBytes,
                    bearerToken: token, log: { printError("capture: \($0)") })
            }
            let serving = Task { try await server.run() }
            do {
                try await server.waitUntilListening()
            } catch {
                serving.cancel()
                let reason = await Self.failure(of: serving) ?? "\(error)"
                _ = try reportingSetupErrors { throw CaptureSetupError.cannotListen(listen, reason) }
            }
            let actualPort = await server.listeningPort() ?? port
            printError("capture: listening on http://\(host):\(actualPort) (Ctrl-C to stop)")
            let (signals, continuation) = AsyncStream<Int32>.makeStream()
            let sources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            defer { sources.forEach { $0.cancel() } }
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
    case cannotListen(String, String)

    var errorDescription: String? {
        switch self {
        case .noToken(let variable): return "--bearer-token-env: the environment variable \(variable) is not set"
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        }
    }
}

import Foundation

/// The scriptable fake model API (`Tests/TriageEvalCLITests/Fixtures/fake_provider.py`) on 127.0.0.1, started
/// for one test and stopped by ``stop()``.
///
/// `@unchecked Sendable`: it holds a ``PythonServer`` (see there); everything else is immutable.
package final class FakeProvider: @unchecked Sendable {
    /// The port it listens on.
    package let port: Int
    /// Its base URL.
    package var baseURL: String { "http://127.0.0.1:\(port)" }
    private let server: PythonServer
    private let logPath: String

    /// Starts the server with a script (see the Python file's docstring).
    package init(script: [String: Any], directory: TemporaryDirectory) throws {
        let scriptPath = directory.file("fake-script-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: script).write(to: URL(fileURLWithPath: scriptPath))
        logPath = directory.file("fake-log-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        server = try PythonServer(
            script: Repository.path("Tests/TriageEvalCLITests/Fixtures/fake_provider.py"),
            arguments: [scriptPath, logPath])
        port = server.port
    }

    /// The requests it received, in order.
    package func requests() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    /// Stops the server.
    package func stop() { server.stop() }
}

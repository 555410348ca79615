import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The scriptable fake model API (`Tests/TriageEvalCLITests/Fixtures/fake_provider.py`) on 127.0.0.1, started
/// for one test and stopped by ``stop()``.
package final class FakeProvider: @unchecked Sendable {
    /// The port it listens on.
    package let port: Int
    /// Its base URL.
    package var baseURL: String { "http://127.0.0.1:\(port)" }
    private let process: Process
    private let logPath: String

    /// Starts the server with a script (see the Python file's docstring).
    package init(script: [String: Any], directory: TemporaryDirectory) throws {
        let scriptPath = directory.file("fake-script-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: script).write(to: URL(fileURLWithPath: scriptPath))
        logPath = directory.file("fake-log-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Repository.path("Tests/TriageEvalCLITests/Fixtures/fake_provider.py"), scriptPath, logPath,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    /// The requests it received, in order.
    package func requests() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    /// Stops the server.
    package func stop() {
        guard process.isRunning else { return }
        // SIGKILL: a SIGTERM may be ignored, as the test runner's disposition is inherited.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Python test server on 127.0.0.1 that prints its port on its first line, started for one test and stopped by
/// ``stop()``.
///
/// `@unchecked Sendable`: Foundation's `Process` is not Sendable; it is started in `init` and only terminated afterwards.
package final class PythonServer: @unchecked Sendable {
    /// The port it listens on.
    package let port: Int
    private let process: Process

    /// Starts `python3 SCRIPT ARGUMENTS…` and reads the port it prints.
    package init(script: String, arguments: [String] = []) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
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

    /// Stops the server.
    package func stop() {
        guard process.isRunning else { return }
        // SIGKILL: a SIGTERM may be ignored, as the test runner's disposition is inherited.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

import Foundation
import Synchronization

/// The built `triage-eval` binary running in the background (a server such as `capture`), with its standard
/// error collected as it comes.
///
/// `@unchecked Sendable` because Foundation's `Process` is not Sendable; the process is only started in `init` and
/// signalled afterwards, and what is collected sits behind a `Mutex`.
package final class BackgroundBinary: @unchecked Sendable {
    private let process = Process()
    private let collected = Mutex(Data())
    // A blocking read of the pipe: a thread of its own, never a cooperative one.
    private var reader: Thread?

    /// Starts the binary.
    package init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        process.arguments = arguments
        process.environment = BinaryRunner.environment(environment)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        let reader = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                collected.withLock { $0.append(chunk) }
            }
        }
        reader.start()
        self.reader = reader
    }

    /// Everything written to standard error so far.
    package var stderr: String {
        collected.withLock { String(decoding: $0, as: UTF8.self) }
    }

    /// Waits until standard error has a line containing `text`; returns that line.
    package func waitForLine(containing text: String, timeout: TimeInterval = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw BackgroundBinaryError.noLine(text, stderr)
    }

    /// Sends a signal.
    package func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit (up to `timeout` seconds, then kills it) and returns its status.
    package func wait(timeout: TimeInterval = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Whether it is still running.
    package var isRunning: Bool { process.isRunning }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// A background binary never printed what a test waited for.
package enum BackgroundBinaryError: Error, CustomStringConvertible {
    case noLine(String, String)

    package var description: String {
        switch self {
        case .noLine(let text, let stderr): return "no line containing '\(text)'; stderr so far:\n\(stderr)"
        }
    }
}

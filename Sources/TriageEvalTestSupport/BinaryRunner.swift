import Foundation
import Synchronization

/// Runs the built `triage-eval` binary, for end-to-end tests.
package enum BinaryRunner {
    /// What a run printed and how it exited.
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// The binary beside the test bundle (`.build/<configuration>/triage-eval`).
    package static var binaryPath: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // The test runner may sit inside an .xctest bundle.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("triage-eval")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory.deleteLastPathComponent()
        }
        return Repository.path(".build/release/triage-eval")
    }

    /// The environment the binary runs in: this one, marked as CI (plain progress lines), without a store
    /// override, plus `extra`.
    package static func environment(_ extra: [String: String]) -> [String: String] {
        var merged = ProcessInfo.processInfo.environment
        merged["CI"] = "true"
        merged.removeValue(forKey: "TRIAGE_EVAL_DB")
        for (key, value) in extra { merged[key] = value }
        return merged
    }

    /// Runs the binary with arguments in a working directory.
    package static func run(
        _ arguments: [String],
        in workingDirectory: String? = nil,
        environment: [String: String] = [:],
        stdin: Data? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.environment = Self.environment(environment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so that neither fills up and blocks the child.
        let errorData = LockedData()
        let reader = Thread { errorData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData.value, as: UTF8.self)
        )
    }
}

/// Standard error's bytes, handed from the reading thread.
private final class LockedData: Sendable {
    private let state = Mutex<(data: Data, done: Bool)>((Data(), false))

    func set(_ newValue: Data) { state.withLock { $0 = (newValue, true) } }

    var isSet: Bool { state.withLock { $0.done } }

    var value: Data { state.withLock { $0.data } }
}

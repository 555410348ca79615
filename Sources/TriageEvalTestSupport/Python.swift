import Foundation

/// Runs a short Python 3 script, for tests that need an independent computation (a hash, a gzip stream, a file
/// name that Swift's `String` cannot spell) or a large input generated rather than committed.
package enum Python {
    /// A script that exited with an error.
    package struct Failure: Error, CustomStringConvertible {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        package var description: String { "python3 exited \(status): \(stdout)\(stderr)" }
    }

    /// Runs `script` with `arguments` (as `sys.argv[1:]`) and returns what it printed, trailing newline removed.
    /// - Throws: ``Failure`` when it exits with an error.
    @discardableResult
    package static func run(_ script: String, _ arguments: String...) throws -> String {
        try run(script, arguments: arguments)
    }

    /// Runs `script` with `arguments` (as `sys.argv[1:]`) and returns what it printed, trailing newline removed.
    /// - Throws: ``Failure`` when it exits with an error.
    @discardableResult
    package static func run(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // The scripts print little to standard error, so reading standard output first cannot block the child.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorOutput = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                stderr: String(decoding: errorOutput, as: UTF8.self))
        }
        var text = String(decoding: output, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

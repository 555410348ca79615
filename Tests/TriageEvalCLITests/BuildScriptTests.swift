import Foundation
import Testing
import TriageEvalTestSupport

/// `scripts/build`, through which scripts/setup and scripts/test (and so `.ci/run`) build: a failing build must
/// fail them. A stand-in `swift` on the PATH plays the compiler.
@Suite struct BuildScriptTests {
    static func runBuild(fakeSwiftExitStatus status: Int32) throws -> (status: Int32, output: String) {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let fake = try temp.write(
            "bin/swift",
            """
            #!/bin/sh
            echo "[1/3] Compiling TriageEvalCore Judge.swift"
            echo "arguments: $*"
            echo "error: boom" >&2
            exit \(status)

            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Repository.path("scripts/build"), "-c", "release", "--build-tests"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = temp.file("bin") + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func aFailingBuildFailsTheScript() throws {
        let (status, output) = try Self.runBuild(fakeSwiftExitStatus: 1)
        #expect(status == 1, "\(output)")
        #expect(output.contains("error: boom"))
        #expect(!output.contains("[1/3]"))
    }

    @Test func aPassingBuildPassesWithItsArgumentsAndWithoutProgressLines() throws {
        let (status, output) = try Self.runBuild(fakeSwiftExitStatus: 0)
        #expect(status == 0, "\(output)")
        #expect(output.contains("arguments: build -c release --build-tests"))
        #expect(!output.contains("Compiling"))
    }
}

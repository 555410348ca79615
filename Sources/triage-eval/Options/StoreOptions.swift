import ArgumentParser
import Foundation
import TriageEvalCore

/// The store location, shared by every command that reads or writes it.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite file (default: $TRIAGE_EVAL_DB, else ./triage-eval.sqlite).", valueName: "path"))
    var db: String?

    /// Opens the store.
    func open() throws -> Store {
        try Store(path: Store.resolvePath(flag: db, environment: ProcessInfo.processInfo.environment))
    }
}

/// Where a command writes its lines, shared by the export commands.
struct OutputOptions: ParsableArguments {
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The file (default: standard output; gzipped when it ends in .gz).", valueName: "file"))
    var output: String?

    /// Writes the lines `produce` hands over, then finishes the file; returns what `produce` returns.
    func write(_ produce: (_ line: (String) -> Void) throws -> Int) throws -> Int {
        let file = try OutputFile(path: output)
        let count = try produce { file.writeLine($0) }
        try file.close()
        return count
    }
}

/// Runs command work, turning core errors into a message on standard error and exit code 2 (a set-up error).
/// `ExitCode`s and argument-parser errors pass through unchanged.
func reportingSetupErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let message = (error as? any LocalizedError)?.errorDescription ?? "\(error)"
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        throw ExitCode(2)
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

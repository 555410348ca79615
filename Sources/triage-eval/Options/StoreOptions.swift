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

/// Runs command work, turning a set-up error into a message on standard error and exit code 2, and any other
/// error into an internal-error message and exit code 70 (``ErrorDisposition``). `ExitCode`s and
/// argument-parser errors pass through unchanged.
func reportingSetupErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        throw exitCode(for: error)
    }
}

/// Prints what ends the command and returns its exit code.
func exitCode(for error: any Error) -> ExitCode {
    let disposition = ErrorDisposition.classify(error)
    FileHandle.standardError.write(Data((disposition.message + "\n").utf8))
    switch disposition {
    case .setUp: return ExitCode(2)
    case .internal: return ExitCode(ErrorDisposition.internalExitCode)
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Where reports go, shared by `run`, `report` and `compare`.
struct ReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where reports are written.", valueName: "dir"))
    var reports = "reports"

    @Option(
        help: ArgumentHelp(
            "Write the JUnit file here instead of into the report's folder.", valueName: "path"))
    var junit: String?
}

/// Writes a run's reports, prints where, and fails (exit 1) when a gate failed.
func writeRunReports(runId: String, store: TriageEvalCore.Store, options: ReportOptions, printPaths: (String) -> Void)
    throws
{
    let (report, paths) = try reportingSetupErrors {
        let report = try RunReport.buildGated(runId: runId, store: store)
        return (report, try ReportWriter.write(report, store: store, to: options.reports, junitPath: options.junit))
    }
    for path in paths { printPaths(path) }
    for gate in report.gates {
        printError("gate \(gate.name): \(gate.passed ? "pass" : "FAIL") (\(gate.value); limit \(gate.limit))")
    }
    if !report.gatesPassed {
        printError("\(report.gates.filter { !$0.passed }.count) of \(report.gates.count) gates failed")
        throw ExitCode(1)
    }
}

import Foundation
import GRDB
import Synchronization

/// An error the user can fix and that names what to fix: a bad or missing file, a malformed payload or reply
/// file, an unknown run, an unreachable model service, a missing API key. The command line exits 2 for these.
///
/// Every domain error of the core conforms; an error that does not (a constraint failure, a broken invariant) is
/// an internal error: a bug in triage-eval, reported as one (``ErrorDisposition``).
package protocol SetUpError: LocalizedError {}

/// How the command line reports an error that ended a command.
package enum ErrorDisposition: Equatable, Sendable {
    /// A set-up error (exit 2), with its message.
    case setUp(String)
    /// A bug in triage-eval (exit 70, `EX_SOFTWARE`), with its message.
    case `internal`(String)

    /// The exit code of an internal error: `EX_SOFTWARE` of `sysexits.h`, beside argument-parser's 64.
    package static let internalExitCode: Int32 = 70

    /// Sorts an error: domain set-up errors; files that cannot be read or written and a store that cannot be
    /// opened, written or read (busy, read-only, full, corrupt, I/O) are set-up errors — the environment, not
    /// triage-eval, is at fault; anything else, SQLite constraint failures and misuse included, is internal.
    /// - Parameters:
    ///   - error: what ended the command.
    ///   - storePath: the store a SQLite error is about (by default the one this process opened last).
    package static func classify(
        _ error: any Error, storePath: String? = Store.lastOpened.withLock { $0 }
    ) -> ErrorDisposition {
        switch error {
        case let error as any SetUpError:
            return .setUp(error.errorDescription ?? "\(error)")
        case let error as DatabaseError where environmentCodes.contains(error.resultCode.primaryResultCode):
            let path = storePath.map { " \($0)" } ?? ""
            let hint =
                error.resultCode.primaryResultCode == .SQLITE_READONLY
                ? " (check the permissions of the file, its -wal and -shm files and their folder)" : ""
            return .setUp("the store\(path): \(error.message ?? error.description)\(hint)")
        case let error as CocoaError where error.isFileError:
            return .setUp(fileErrorMessage(error))
        case let error as POSIXError:
            return .setUp(error.localizedDescription)
        default:
            let message = (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
            return .internal(message)
        }
    }

    /// SQLite's result codes for a store the environment keeps from working.
    private static let environmentCodes: [ResultCode] = [
        .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_FULL,
        .SQLITE_CANTOPEN, .SQLITE_NOTADB, .SQLITE_PERM, .SQLITE_NOLFS,
    ]

    private static func fileErrorMessage(_ error: CocoaError) -> String {
        let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? error.filePath ?? "a file"
        let underlying = (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
        return "\(path): \(underlying ?? error.localizedDescription)"
    }

    /// What the command line prints for it.
    package var message: String {
        switch self {
        case .setUp(let message): return "error: \(message)"
        case .internal(let message):
            return "internal error: \(message)\n"
                + "This is a bug in triage-eval, not in your input: please report it with the command line and the "
                + "triage-eval version."
        }
    }
}

extension StoreError: SetUpError {}
extension ReplyImportError: SetUpError {}
extension RunError: SetUpError {}
extension InputError: SetUpError {}
extension IngestError: SetUpError {}
extension PyYAMLError: SetUpError {}
extension CatalogError: SetUpError {}
extension DecisionCheckError: SetUpError {}
extension ConfigError: SetUpError {}
extension PipelineError: SetUpError {}
extension PipelineExporter.ExportError: SetUpError {}
extension PlannerError: SetUpError {}
extension IncidentError: SetUpError {}
extension AuditLog.AuditError: SetUpError {}
extension MergeError: SetUpError {}

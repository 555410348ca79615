import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The process replaying a run (table `runLease`): a run is replayed by one process at a time.
///
/// Taken in one write transaction before any call is made, released when the replay ends; a lease whose process
/// has died (killed, crashed) on this host is taken over — and, for a shard's retry, a lease left by another host
/// (a pod's retry runs on a new host, once the attempt before it has ended).
package enum RunLease {
    /// The environment variable that names this host for the lease instead of its host name (`scripts/fanout-local`
    /// gives each attempt its own, as each of a retried step's pods has its own).
    package static let hostVariable = "TRIAGE_EVAL_HOST"

    /// Takes the lease of a run for this process.
    /// - Parameter takeOverOtherHosts: take over a lease another host holds (its process cannot be checked from
    ///   here): for a shard's store, whose attempts a workflow engine runs one at a time.
    /// - Throws: ``RunError/replayedElsewhere(runId:pid:host:)`` while another live process holds it.
    package static func acquire(_ db: Database, runId: String, takeOverOtherHosts: Bool = false) throws {
        let pid = Int64(getpid())
        let environment = ProcessInfo.processInfo.environment
        let host = environment[hostVariable].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        if let row = try Row.fetchOne(db, sql: "SELECT pid, host FROM runLease WHERE runId = ?", arguments: [runId]) {
            let holder: Int64 = row["pid"]
            let holderHost: String = row["host"]
            let heldElsewhere = holderHost != host && !takeOverOtherHosts
            if holder != pid || holderHost != host, heldElsewhere || (holderHost == host && isAlive(holder)) {
                throw RunError.replayedElsewhere(runId: runId, pid: Int(holder), host: holderHost)
            }
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO runLease (runId, pid, host, since) VALUES (?, ?, ?, ?)",
            arguments: [runId, pid, host, UTCTimestamp.string()])
    }

    /// Releases this process's lease of a run.
    package static func release(_ db: Database, runId: String) throws {
        try db.execute(
            sql: "DELETE FROM runLease WHERE runId = ? AND pid = ?", arguments: [runId, Int64(getpid())])
    }

    /// Whether a process of this host is alive (`kill(pid, 0)` succeeds, or fails only for permission).
    private static func isAlive(_ pid: Int64) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}

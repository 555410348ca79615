import Foundation
import GRDB

/// Two runs' pipeline replays compared incident by incident (`compare`, when both runs have the state rules):
/// what ran against the cluster, what harmed, and the approvals a person had to answer.
///
/// The unit is the incident: a run's Workflows and requests are counted per incident of the replay, and only
/// incidents both replays hold are paired. Whether an incident had a harmful run is compared with the exact McNemar
/// test over the incidents that differ; the per-incident counts with a paired bootstrap of the mean difference
/// (B − A), resampling incidents.
package struct PipelineComparison: Codable, Sendable, Equatable {
    /// Incidents both replays hold.
    package var incidents: Int
    /// Incidents with a harmful run, in each run, over the paired incidents.
    package var harmfulIncidentsA: Rate
    package var harmfulIncidentsB: Rate
    /// `worse`: incidents harmed in B only; `better`: in A only.
    package var harmfulIncidents: Statistics.McNemar
    /// Whether B harms significantly more incidents (one-sided exact McNemar p < alpha).
    package var significantlyMoreHarm: Bool
    /// Harmful runs, Workflows run and approval requests over the paired incidents, and the per-incident mean
    /// difference B − A with its bootstrap interval.
    package var harmfulRunsA: Int
    package var harmfulRunsB: Int
    package var harmfulRuns: Statistics.PairedBootstrap?
    package var workflowsA: Int
    package var workflowsB: Int
    package var workflows: Statistics.PairedBootstrap?
    package var approvalsA: Int
    package var approvalsB: Int
    package var approvals: Statistics.PairedBootstrap?
    /// Approval requests per hour of production time, each run over its whole replay.
    package var approvalsPerHourA: Double?
    package var approvalsPerHourB: Double?

    /// Per incident: Workflows that ran, harmful ones, approval requests.
    private struct Tally {
        var runs = 0
        var harmful = 0
        var approvals = 0
    }

    /// The comparison, or nil unless both runs replayed their pipeline with the state rules.
    static func compute(
        _ db: Database, runA: String, runB: String, reportA: RunReport, reportB: RunReport, alpha: Double,
        resamples: Int, seed: UInt64
    ) throws -> PipelineComparison? {
        guard let stateA = reportA.pipeline?.state, let stateB = reportB.pipeline?.state else { return nil }
        let a = try tallies(db, runId: runA)
        let b = try tallies(db, runId: runB)
        let paired = a.keys.filter { b[$0] != nil }.sorted()
        var harmedA = 0
        var harmedB = 0
        var worse = 0
        var better = 0
        var totals = (harmfulA: 0, harmfulB: 0, runsA: 0, runsB: 0, approvalsA: 0, approvalsB: 0)
        var harmful: [Int] = []
        var runs: [Int] = []
        var approvals: [Int] = []
        for incident in paired {
            let (x, y) = (a[incident]!, b[incident]!)
            if x.harmful > 0 { harmedA += 1 }
            if y.harmful > 0 { harmedB += 1 }
            if x.harmful == 0 && y.harmful > 0 { worse += 1 }
            if x.harmful > 0 && y.harmful == 0 { better += 1 }
            totals.harmfulA += x.harmful
            totals.harmfulB += y.harmful
            totals.runsA += x.runs
            totals.runsB += y.runs
            totals.approvalsA += x.approvals
            totals.approvalsB += y.approvals
            harmful.append(y.harmful - x.harmful)
            runs.append(y.runs - x.runs)
            approvals.append(y.approvals - x.approvals)
        }
        let mcnemar = Statistics.McNemar(worse: worse, better: better)
        func bootstrap(_ differences: [Int]) -> Statistics.PairedBootstrap? {
            Statistics.pairedBootstrap(differences: differences, resamples: resamples, seed: seed)
        }
        return PipelineComparison(
            incidents: paired.count, harmfulIncidentsA: Rate(harmedA, of: paired.count),
            harmfulIncidentsB: Rate(harmedB, of: paired.count), harmfulIncidents: mcnemar,
            significantlyMoreHarm: mcnemar.pWorse < alpha, harmfulRunsA: totals.harmfulA,
            harmfulRunsB: totals.harmfulB, harmfulRuns: bootstrap(harmful), workflowsA: totals.runsA,
            workflowsB: totals.runsB, workflows: bootstrap(runs), approvalsA: totals.approvalsA,
            approvalsB: totals.approvalsB, approvals: bootstrap(approvals),
            approvalsPerHourA: stateA.approvals.perHour, approvalsPerHourB: stateB.approvals.perHour)
    }

    /// Every incident of a run's replay with its tallies.
    private static func tallies(_ db: Database, runId: String) throws -> [String: Tally] {
        var tallies: [String: Tally] = [:]
        for incident in try String.fetchAll(
            db, sql: "SELECT DISTINCT incidentId FROM pipelineMessage WHERE runId = ? AND incidentId IS NOT NULL",
            arguments: [runId])
        {
            tallies[incident] = Tally()
        }
        let runs = try Row.fetchCursor(
            db,
            sql: """
                SELECT incidentId, harm FROM pipelineWorkflow WHERE runId = ? AND executed = 1
                """, arguments: [runId])
        while let row = try runs.next() {
            tallies[row[0], default: Tally()].runs += 1
            if let harm: String = row[1], harm != "[]" { tallies[row[0], default: Tally()].harmful += 1 }
        }
        for incident in try String.fetchAll(
            db, sql: "SELECT incidentId FROM pipelineApproval WHERE runId = ?", arguments: [runId])
        {
            tallies[incident, default: Tally()].approvals += 1
        }
        return tallies
    }
}

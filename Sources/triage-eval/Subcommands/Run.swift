import ArgumentParser
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TriageEvalCore

extension TriageEval {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a scenario: judge every labelled incident and write its report.",
            discussion: """
                Loads the scenario's corpus into the store (deliveries and shipped replies, each file once), \
                gets a reply for every labelled incident × sample — from the response cache, or from the model \
                (cache: record, refresh or off) with bounded concurrency, rate limits and retries — runs it \
                through production's validator and router and the strict policy, stores one result each, and \
                writes reports/<run>/: report.md, report.json, report.html, summary.md (for a pull-request \
                comment) and junit.xml. Prints the run id.

                The scenario's gates: (max_invalid_json_rate, min_decision_accuracy, min_route_accuracy, \
                max_unsafe_executions, max_ece, min_act_recall, min_lift_vs_always_defer, \
                no_significant_regression_vs) decide the exit code.

                Ctrl-C stops launching calls, lets those in flight finish and exits 130; the run, like one killed \
                outright, continues with --resume, which also retries calls that failed in transport (those of a \
                complete run too, e.g. after an outage longer than the retries).

                With SOURCE_DATE_EPOCH set (Unix seconds, the reproducible-builds convention), the run's id and \
                times are that time, so its reports are the same bytes on every machine.

                Exit codes: 0 ok (every gate passed); 1 a gate failed, or a shard's calls failed in transport (the \
                same command retries them); 2 a set-up error (bad scenario, a replay \
                miss, a missing API key, an unreachable or refusing server); 70 an internal error; 130 interrupted.

                Examples:
                  triage-eval run scenarios/demo.yaml
                  triage-eval run --resume demo-20261129T101500Z
                  triage-eval run scenarios/live/k8s-week-claude.yaml --shard 2/3 --db shard-2.sqlite
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The scenario file.", valueName: "scenario.yaml"))
        var scenario: String?

        @Option(
            help: ArgumentHelp(
                "Continue an interrupted run, or retry a run's transport failures, instead of starting one.",
                valueName: "run"))
        var resume: String?

        @OptionGroup var reportOptions: ReportOptions

        @Option(
            help: ArgumentHelp(
                "Override the scenario's cache mode (replay, record, refresh, off): e.g. replay a recorded live "
                    + "scenario offline.", valueName: "mode"))
        var cache: CacheMode?

        @Option(
            help: ArgumentHelp(
                "Do one shard of the work: the labelled incidents whose id hashes to shard I of N (from 1), in this "
                    + "store; 'triage-eval merge' joins the N shards' stores. A shard's report is partial and has no "
                    + "gates; its rate limits are the scenario's divided by N (rate_limit.per_shard: true keeps them "
                    + "whole). Started again on the same store, a shard continues its run (retrying calls that "
                    + "failed; exit 1 when some still fail) or, when complete, reuses it.",
                valueName: "I/N"))
        var shard: Shard?

        @Flag(
            help: ArgumentHelp(
                "Run without the scenario's gates: a baseline that later runs are gated against (e.g. the merge "
                    + "base's run in CI, whose scenario names itself as its baseline)."))
        var noGates = false

        func validate() throws {
            if (scenario == nil) == (resume == nil) {
                throw ValidationError("give a scenario file, or --resume RUN (not both)")
            }
            if resume != nil && cache != nil { throw ValidationError("--cache applies to a new run, not to --resume") }
            if resume != nil && noGates { throw ValidationError("--no-gates applies to a new run, not to --resume") }
            if resume != nil && shard != nil {
                throw ValidationError("--shard applies to a new run (a resumed run keeps its own shard)")
            }
        }

        func run() async throws {
            let stop = StopRequest()
            let signals = Self.interceptInterrupts(stop)
            defer { _ = signals }
            let store = try reportingSetupErrors { try self.store.open() }
            let outcome: Runner.Outcome
            do {
                let runner = Runner(
                    store: store, progressStyle: Progress.automaticStyle, stop: stop,
                    clock: try RunClock.fromEnvironment(ProcessInfo.processInfo.environment))
                if let resume {
                    printError("resuming run \(resume)")
                    outcome = try await runner.resume(runId: resume)
                } else {
                    var scenario = try Scenario.load(path: scenario!)
                    if let cache { scenario = scenario.with(cache: cache) }
                    // A shard's rates are partial: the merge applies the gates.
                    if noGates || shard != nil { scenario = scenario.withoutGates() }
                    scenario = scenario.with(shard: shard)
                    printError(
                        "scenario \(scenario.name): corpus \(scenario.corpus), model \(scenario.model.name), "
                            + "cache \(scenario.cache.rawValue), match \(scenario.match.rawValue)"
                            + (shard.map { ", shard \($0)" } ?? ""))
                    outcome = try await runner.start(scenario) { start in
                        switch start {
                        case .new: break
                        case .continued(let runId):
                            printError("continuing shard \(shard!)'s run \(runId) in this store")
                        case .complete(let runId):
                            printError("shard \(shard!)'s run \(runId) in this store is complete: writing its reports")
                        }
                    }
                }
            } catch let error as RunError where error.isShardRetry {
                // A shard whose calls failed: exit 1, which the fan-out's retryStrategy retries (it does not retry
                // a set-up error's 2); the same command continues the run.
                printError("error: " + (error.errorDescription ?? "\(error)"))
                throw ExitCode(1)
            } catch RunError.interrupted(let runId, let done, let total) {
                printError(
                    "interrupted after \(done) of \(total) samples; continue with: triage-eval run --resume \(runId)")
                throw ExitCode(130)
            } catch {
                _ = try reportingSetupErrors { throw error }
                return
            }
            let ingest = outcome.corpus.ingest
            if ingest.read > 0 || outcome.corpus.replies.read > 0 {
                printError(
                    "loaded corpus: \(ingest.stored) deliveries stored, \(ingest.duplicates) duplicate, "
                        + "\(ingest.quarantined) quarantined; \(outcome.corpus.replies.imported) replies imported")
            }
            print(outcome.runId)
            // The store file alone holds the run (a shard's store is copied as one file): its log is copied into it
            // while the reports are written.
            try reportingSetupErrors {
                try store.checkpoint {
                    try writeRunReports(runId: outcome.runId, store: store, options: reportOptions) {
                        printError("wrote \($0)")
                    }
                }
            }
        }

        /// While loading, SIGINT or SIGTERM exits at once (130): nothing has been replayed. Once the replay has
        /// begun, the first asks the run to stop launching calls; a second one exits at once.
        private static func interceptInterrupts(_ stop: StopRequest) -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if !stop.isArmed {
                        printError("interrupted while loading; nothing was replayed")
                        Glibc.exit(130)
                    }
                    if stop.isRequested { Glibc.exit(130) }
                    printError("stopping: finishing the calls in flight (again to quit at once)")
                    stop.request()
                }
                source.resume()
                return source
            }
        }
    }
}

extension CacheMode: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
    /// Parses `--shard I/N`.
    public init?(argument: String) { self.init(argument) }
}

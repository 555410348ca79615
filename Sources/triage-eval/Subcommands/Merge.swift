import ArgumentParser
import Foundation
import TriageEvalCore

extension TriageEval {
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the shards of a run (run --shard I/N, one store each) into one run and write its report.",
            discussion: """
                Reads each shard's store (a file, or a folder whose *.sqlite files are read): the newest complete \
                shard run of this scenario file, which must share its system prompt, labels and model, with no \
                transport failure left to retry; together the shards must be 1/N … N/N, once each. Their replies \
                are copied into this store (--db) and their results become one run of the whole scenario — a \
                reply a shard called for counts as a live call, as it would in one run — and the pipeline replay \
                runs once here over every message in time order (its state rules couple incidents, so they are \
                never sharded). The merged run's report equals one run's on one machine, but for its id and times and \
                a note of the shards it was merged from. \
                Prints the run id; the scenario's gates decide the exit code, as for run.

                Exit codes: 0 ok; 1 a gate failed; 2 a set-up error (a missing or unfinished shard, shards of \
                another scenario).

                Example:
                  triage-eval merge scenarios/live/k8s-week-claude.yaml shards/ --db merged.sqlite
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The scenario file the shards ran.", valueName: "scenario.yaml"))
        var scenario: String

        @Argument(help: ArgumentHelp("The shards' stores: files, or folders of *.sqlite files.", valueName: "store"))
        var shards: [String]

        @OptionGroup var reportOptions: ReportOptions

        @Flag(help: ArgumentHelp("Merge without the scenario's gates (a baseline for later runs)."))
        var noGates = false

        func validate() throws {
            if shards.isEmpty { throw ValidationError("give the shards' stores") }
        }

        func run() async throws {
            let store = try reportingSetupErrors { try self.store.open() }
            let outcome: Runner.Outcome
            do {
                var scenario = try Scenario.load(path: scenario)
                if noGates { scenario = scenario.withoutGates() }
                let paths = try Self.storeFiles(shards, excluding: store.path)
                printError("merging \(paths.count) shard stores: \(paths.joined(separator: ", "))")
                let runner = Runner(
                    store: store, progressStyle: Progress.automaticStyle,
                    clock: try RunClock.fromEnvironment(ProcessInfo.processInfo.environment))
                outcome = try await runner.merge(scenario, shardStores: paths)
            } catch {
                _ = try reportingSetupErrors { throw error }
                return
            }
            print(outcome.runId)
            // The merged store's log is copied into its file while the reports are written.
            try reportingSetupErrors {
                try store.checkpoint {
                    try writeRunReports(runId: outcome.runId, store: store, options: reportOptions) {
                        printError("wrote \($0)")
                    }
                }
            }
        }

        /// The files given, with each folder's `*.sqlite` files in name order (never the merge's own store).
        static func storeFiles(_ arguments: [String], excluding own: String) throws -> [String] {
            let ownPath = URL(fileURLWithPath: own).standardizedFileURL.path
            var files: [String] = []
            for argument in arguments {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                    throw MergeError.noStore(path: argument)
                }
                guard isDirectory.boolValue else {
                    files.append(argument)
                    continue
                }
                let names = try FileManager.default.contentsOfDirectory(atPath: argument)
                    .filter { $0.hasSuffix(".sqlite") }.sorted()
                files += names.map { (argument as NSString).appendingPathComponent($0) }
                    .filter { URL(fileURLWithPath: $0).standardizedFileURL.path != ownPath }
            }
            guard !files.isEmpty else { throw MergeError.noShards }
            return files
        }
    }
}

extension TriageEval {
    struct Shards: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a scenario's work into N shards: print them as JSON for a fan-out (Argo's withParam).",
            discussion: """
                Loads the scenario's corpus and labels (into --db) as a run would, so a bad scenario stops the \
                fan-out before any shard starts, and prints one JSON array on standard output: \
                [{"shard": "1/3", "index": 1, "count": 3, "incidents": 57, "samples": 57}, …]. Each shard is \
                then run with: triage-eval run SCENARIO --shard I/N. An incident's shard is the first 8 bytes of \
                the SHA-256 of its id, big-endian, modulo N: it depends on nothing else.

                Example:
                  triage-eval shards scenarios/live/k8s-week-claude.yaml --count 3 -o shards.json
                """
        )

        @OptionGroup var store: StoreOptions

        @Argument(help: ArgumentHelp("The scenario file.", valueName: "scenario.yaml"))
        var scenario: String

        @Option(help: ArgumentHelp("How many shards (1 to \(Shard.maxCount)).", valueName: "N"))
        var count: Int

        @Option(
            name: [.short, .customLong("output")],
            help: ArgumentHelp("Write the JSON array here instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            guard (1...Shard.maxCount).contains(count) else {
                throw ValidationError("--count must be between 1 and \(Shard.maxCount)")
            }
        }

        func run() throws {
            let shares = try reportingSetupErrors {
                let scenario = try Scenario.load(path: scenario)
                return try Runner(store: try store.open(), progressStyle: Progress.automaticStyle)
                    .plan(scenario, count: count)
            }
            let items = shares.map { share in
                "{\"shard\": \"\(share.shard)\", \"index\": \(share.shard.index), \"count\": \(share.shard.count), "
                    + "\"incidents\": \(share.incidents), \"samples\": \(share.samples)}"
            }
            let json = "[" + items.joined(separator: ", ") + "]"
            if let output {
                try reportingSetupErrors { try Data((json + "\n").utf8).write(to: URL(fileURLWithPath: output)) }
            } else {
                print(json)
            }
            for share in shares {
                printError("shard \(share.shard): \(share.incidents) incidents, \(share.samples) samples")
            }
        }
    }
}

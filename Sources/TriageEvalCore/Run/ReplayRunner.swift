import Foundation
import GRDB

/// Errors that stop a run before it produces results.
package enum RunError: LocalizedError, Equatable {
    case noLabels(corpus: String, path: String)
    case missingReplies(model: String, missing: [String], total: Int)
    case unknownRun(String)

    package var errorDescription: String? {
        switch self {
        case .noLabels(let corpus, let path): return "corpus '\(corpus)': no labels file at \(path)"
        case .missingReplies(let model, let missing, let total):
            let shown = missing.prefix(20).joined(separator: "\n  ")
            let more = missing.count > 20 ? "\n  … and \(missing.count - 20) more" : ""
            return "replay: \(missing.count) of \(total) samples have no cached reply for model '\(model)':\n  "
                + shown + more + "\n(import them with 'triage-eval cache import FILE', or fix the scenario's model)"
        case .unknownRun(let id): return "no run '\(id)' in the store"
        }
    }
}

/// Replays a scenario offline: every labelled incident × sample through production's planner, validator and
/// router, scored against its label, one stored result each.
package struct ReplayRunner {
    /// The store.
    package var store: Store
    /// How progress is shown.
    package var progressStyle: Progress.Style = .silent

    package init(store: Store, progressStyle: Progress.Style = .silent) {
        self.store = store
        self.progressStyle = progressStyle
    }

    /// What a run produced.
    package struct Outcome: Sendable {
        package var runId: String
        package var corpus: CorpusLoader.Summary
        package var results: Int
    }

    /// Runs a scenario.
    /// - Throws: ``RunError``, ``ConfigError``, ``CatalogError``, ``PlannerError`` and store errors.
    package func run(_ scenario: Scenario) throws -> Outcome {
        let corpusSummary = try CorpusLoader(store: store, progressStyle: progressStyle)
            .load(directory: scenario.corpusDirectory, provider: scenario.model.provider)
        let catalog = try Catalog.load(path: scenario.catalogPath)
        let template = try scenario.templatePath.map { try Planner.loadTemplate(path: $0) } ?? Planner.seedTemplate
        let planner = Planner(catalog: catalog, template: template)
        let systemPrompt = planner.systemPrompt

        let labelsPath = (scenario.corpusDirectory as NSString).appendingPathComponent("labels.yaml")
        guard FileManager.default.fileExists(atPath: labelsPath) else {
            throw RunError.noLabels(corpus: scenario.corpus, path: labelsPath)
        }
        let knownIncidents = try store.queue.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM incident")) }
        let labels = try LabelFile.load(path: labelsPath, catalog: catalog, knownIncidents: knownIncidents)
            .sorted { $0.incidentId < $1.incidentId }

        // Replay needs every reply before anything is stored: a miss is a set-up error, not a result.
        let replies: [String: (id: Int64, text: String)] = try store.queue.read { db in
            var found: [String: (Int64, String)] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, incidentId, sample, text FROM reply WHERE model = ?",
                arguments: [scenario.model.name])
            while let row = try rows.next() {
                found["\(row["incidentId"] as String)#\(row["sample"] as Int)"] = (row["id"], row["text"])
            }
            return found
        }
        var missing: [String] = []
        for label in labels {
            for sample in 0..<scenario.samples where replies["\(label.incidentId)#\(sample)"] == nil {
                missing.append("\(label.incidentId) sample \(sample)")
            }
        }
        if !missing.isEmpty {
            throw RunError.missingReplies(
                model: scenario.model.name, missing: missing, total: labels.count * scenario.samples)
        }

        let router = Router(
            threshold: scenario.threshold,
            approvalGate: scenario.approvalGate,
            approvalRequired: Set(catalog.actions.filter(\.requiresApproval).map(\.name))
        )
        let validator = DecisionValidator(allowedNames: catalog.actionNames)
        let policy = StrictPolicy(catalog: catalog)
        let now = ISO8601DateFormatter().string(from: Date())
        let runId = try store.queue.write { db -> String in
            try LabelFile.store(labels, corpus: scenario.corpus, in: db)
            try db.execute(
                sql: """
                    INSERT INTO catalog (sha256, path, format, text, json, loadedAt) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (sha256) DO NOTHING
                    """,
                arguments: [catalog.sha256, catalog.path, catalog.format, catalog.text, catalog.promptJSON, now])
            let catalogId = try Int64.fetchOne(
                db, sql: "SELECT id FROM catalog WHERE sha256 = ?", arguments: [catalog.sha256])!
            let id = try Self.newRunId(db, scenario: scenario.name)
            try db.execute(
                sql: """
                    INSERT INTO run (id, scenario, scenarioPath, config, corpus, catalogId, systemPromptSha256,
                        provider, model, samples, threshold, approvalGate, status, startedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)
                    """,
                arguments: [
                    id, scenario.name, scenario.path, PythonJSONEncoder.string(scenario.effectiveConfig),
                    scenario.corpus, catalogId, Digest.sha256Hex(systemPrompt), scenario.model.provider,
                    scenario.model.name, scenario.samples, scenario.threshold, scenario.approvalGate, now,
                ])
            return id
        }

        let total = labels.count * scenario.samples
        let progress = Progress(label: "run \(runId)", total: total, unit: "samples", style: progressStyle)
        var stored = 0
        try store.queue.write { db in
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO result (runId, incidentId, sample, replyId, outcome, failureClass, errors,
                        syntaxErrorOffset, decision, confidence, needsHuman, actionNames, policyViolations,
                        productionRoute, route, routeReason, expect, expectedRoute, decisionCorrect, routeCorrect,
                        unsafe)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for label in labels {
                for sample in 0..<scenario.samples {
                    let reply = replies["\(label.incidentId)#\(sample)"]!
                    let verdict = validator.validate(reply.text)
                    let (productionRoute, _) = router.productionRoute(verdict)
                    let (route, reason) = router.route(verdict)
                    let score = Scorer.score(label: label, verdict: verdict, route: route, router: router)
                    let errors = JSONValue.array(
                        verdict.errors.map { issue in
                            .object([("type", .string(issue.type)), ("loc", .array(issue.loc.map(\.jsonValue)))])
                        })
                    let decision = verdict.decision
                    let names = JSONValue.array((decision?.actions ?? []).map { .string($0.name) })
                    let violations = decision.map { policy.check($0) } ?? []
                    try insert.execute(arguments: [
                        runId, label.incidentId, sample, reply.id, verdict.outcome.rawValue,
                        verdict.failureClass.rawValue, PythonJSONEncoder.string(errors), verdict.syntaxErrorOffset,
                        decision.map { PythonJSONEncoder.string($0.jsonValue) },
                        decision.map { $0.confidence.isNaN ? nil : $0.confidence } ?? nil,
                        decision?.needsHuman, PythonJSONEncoder.string(names),
                        PythonJSONEncoder.string(.array(violations.map(\.jsonValue))), productionRoute.rawValue,
                        route.rawValue, reason.rawValue, label.expect.rawValue, score.expectedRoute.rawValue,
                        score.decisionCorrect, score.routeCorrect, score.unsafe,
                    ])
                    stored += 1
                    progress.advance()
                }
            }
            try db.execute(
                sql: "UPDATE run SET status = 'complete', finishedAt = ? WHERE id = ?",
                arguments: [ISO8601DateFormatter().string(from: Date()), runId])
        }
        progress.finish()
        return Outcome(runId: runId, corpus: corpusSummary, results: stored)
    }

    /// `<scenario>-<UTC timestamp>`, with a numeric suffix if that id exists.
    static func newRunId(_ db: Database, scenario: String) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let base = "\(scenario)-\(formatter.string(from: Date()))"
        var id = base
        var suffix = 2
        while try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [id]) ?? false {
            id = "\(base)-\(suffix)"
            suffix += 1
        }
        return id
    }
}

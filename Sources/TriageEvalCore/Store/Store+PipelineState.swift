import Foundation
import GRDB

/// The `pipelineWorkflow`, `pipelineApproval`, `pipelineAudit` and `pipelineDeploy` tables: what a run's state
/// rules did (``PipelineSimulation``).
enum PipelineStateRecord {
    /// Deletes a run's rows (before its messages: the workflows and approvals refer to them).
    static func clear(_ db: Database, runId: String) throws {
        for table in ["pipelineWorkflow", "pipelineApproval", "pipelineAudit", "pipelineDeploy"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE runId = ?", arguments: [runId])
        }
    }

    /// Inserts a run's rows as the replay settles them. Workflows and audit rows go through raw prepared
    /// statements: a replay of a million messages can run hundreds of thousands of Workflows.
    final class Writer {
        let db: Database
        let runId: String
        private let insertWorkflow: RawStatement
        private let insertAudit: RawStatement
        private let insertApproval: RawStatement

        init(db: Database, runId: String) throws {
            self.db = db
            self.runId = runId
            insertWorkflow = try RawStatement(
                db,
                sql: """
                    INSERT INTO pipelineWorkflow (runId, seq, ordinal, via, action, workflowTemplate,
                        workflowIncidentId, params, incidentId, dispatchedAt, suppressedBy, deploy, startedAt,
                        finishedAt, idempotencyKey, keyState, keyHolder, executed, harm, correct)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertAudit = try RawStatement(
                db,
                sql: """
                    INSERT INTO pipelineAudit (runId, id, seq, ordinal, incidentId, action, params, result,
                        createdAt, rowBytes, prevHash, thisHash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertApproval = try RawStatement(
                db,
                sql: """
                    INSERT INTO pipelineApproval (runId, seq, incidentId, postedAt, answer, answeredAt, dispatch,
                        workflows)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
        }

        func deploys(_ timeline: DeployTimeline) throws {
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO pipelineDeploy (runId, ordinal, service, namespace, cluster, start, "end", revision,
                        source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for (ordinal, deploy) in timeline.deploys.enumerated() {
                try statement.execute(arguments: [
                    runId, ordinal, deploy.service, deploy.namespace, deploy.cluster, deploy.start, deploy.end,
                    deploy.revision, deploy.source,
                ])
            }
        }

        /// Records the rules the run's replay ran with (its `pipelineRun` row exists).
        func settings(_ settings: PipelineStateReport.Settings) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try db.execute(
                sql: "UPDATE pipelineRun SET stateRules = ? WHERE runId = ?",
                arguments: [String(decoding: try encoder.encode(settings), as: UTF8.self), runId])
        }

        /// The text parameters of a row, gathered into one buffer (``RawStatement/Texts``).
        private var texts = RawStatement.Texts()

        func workflow(_ run: PipelineSimulation.WorkflowRun) throws {
            let workflow = run.workflow
            let statement = insertWorkflow
            texts.removeAll()
            texts.add(1, runId)
            statement.bind(2, Int64(run.seq))
            statement.bind(3, Int64(run.ordinal))
            texts.add(4, run.via.rawValue)
            texts.add(5, workflow.action)
            texts.add(6, workflow.template)
            texts.add(7, workflow.incidentId)
            texts.add(8, workflow.paramsJSON)
            texts.add(9, run.incidentId)
            statement.bind(10, run.dispatchedAt as Double?)
            texts.add(11, run.suppressedBy?.rawValue)
            statement.bind(12, run.deploy.map(Int64.init))
            statement.bind(13, run.startedAt)
            statement.bind(14, run.finishedAt)
            texts.add(15, run.key)
            texts.add(16, run.keyState?.rawValue)
            texts.add(17, run.keyHolder)
            statement.bind(18, run.executed)
            texts.add(19, run.verdict.map { PipelineStateRecord.harmJSON($0.harms) })
            statement.bind(20, run.verdict?.correct)
            try statement.run(texts: texts)
        }

        func audit(_ link: AuditChain.Link, seq: Int, ordinal: Int) throws {
            let row = link.row
            let statement = insertAudit
            texts.removeAll()
            texts.add(1, runId)
            statement.bind(2, Int64(row.id))
            statement.bind(3, Int64(seq))
            statement.bind(4, Int64(ordinal))
            texts.add(5, row.incidentId)
            texts.add(6, row.action)
            texts.add(7, PipelineStateRecord.paramsJSON(row.params))
            texts.add(8, row.result)
            texts.add(9, row.createdAt)
            link.rowBytes.withUnsafeBufferPointer { statement.bind(10, blob: $0) }
            link.prevHash.withUnsafeBufferPointer { statement.bind(11, blob: $0) }
            link.thisHash.withUnsafeBufferPointer { statement.bind(12, blob: $0) }
            try statement.run(texts: texts)
        }

        func approval(_ request: PipelineSimulation.ApprovalRequest) throws {
            let statement = insertApproval
            texts.removeAll()
            texts.add(1, runId)
            statement.bind(2, Int64(request.seq))
            texts.add(3, request.incidentId)
            statement.bind(4, request.postedAt as Double?)
            texts.add(5, request.answer.rawValue)
            statement.bind(6, request.answeredAt as Double?)
            texts.add(7, request.dispatch)
            statement.bind(8, Int64(request.workflows))
            try statement.run(texts: texts)
        }

    }

    /// Harms as the store keeps them: a JSON list (the few lists there are, written without an encoder).
    static func harmJSON(_ harms: [Harm]) -> String {
        harms.isEmpty ? "[]" : "[\"" + harms.map(\.rawValue).joined(separator: "\", \"") + "\"]"
    }

    /// Parameters as the store keeps them: a JSON object in their order.
    static func paramsJSON(_ params: [(name: String, value: String)]) -> String {
        PythonJSONEncoder.string(.object(params.map { ($0.name, JSONValue.string($0.value)) }))
    }

    /// Parameters read back from ``paramsJSON(_:)`` (nil when the text is not a JSON object of strings).
    static func params(_ json: String) -> [(name: String, value: String)]? {
        guard let members = (try? JSONParser.parse(json))?.objectMembers else { return nil }
        var params: [(name: String, value: String)] = []
        for (key, value) in members {
            guard let text = value.stringValue else { return nil }
            params.append((key, text))
        }
        return params
    }

    /// A run's audit chain in `id` order.
    static func auditChain(_ db: Database, runId: String) throws -> [AuditChain.Link] {
        var links: [AuditChain.Link] = []
        try forEachAuditLink(db, runId: runId) { links.append($0) }
        return links
    }

    /// Gives each link of a run's audit chain to `body`, in `id` order, without holding the chain.
    static func forEachAuditLink(_ db: Database, runId: String, _ body: (AuditChain.Link) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, incidentId, action, params, result, createdAt, rowBytes, prevHash, thisHash
                FROM pipelineAudit WHERE runId = ? ORDER BY id
                """,
            arguments: [runId])
        while let row = try rows.next() {
            let paramsText: String = row[3]
            let bytes: Data = row[6]
            let prev: Data = row[7]
            let this: Data = row[8]
            try body(
                AuditChain.Link(
                    row: AuditChain.Row(
                        id: row[0], incidentId: row[1], action: row[2],
                        // Unreadable parameters cannot be the bytes' parameters: the row reads as edited.
                        params: params(paramsText) ?? [("", paramsText)], result: row[4], createdAt: row[5]),
                    rowBytes: Array(bytes), prevHash: Array(prev), thisHash: Array(this)))
        }
    }

    /// Whether a run has a pipeline replay with state rules (rows in `pipelineRun`).
    static func hasReplay(_ db: Database, runId: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pipelineRun WHERE runId = ?)", arguments: [runId])
            ?? false
    }
}

/// The deploys of a run's timeline, as the replay stored them.
enum DeployRecord {
    static func all(_ db: Database, runId: String) throws -> [DeployTimeline.Deploy] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT service, namespace, cluster, start, "end", revision, source FROM pipelineDeploy
                WHERE runId = ? ORDER BY ordinal
                """, arguments: [runId]
        ).map {
            DeployTimeline.Deploy(
                service: $0[0], namespace: $0[1], cluster: $0[2], start: $0[3], end: $0[4], revision: $0[5],
                source: $0[6])
        }
    }
}

import GRDB

/// The `pipelineMessage` and `pipelineRun` tables: a run's pipeline replay, one row per message.
enum PipelineMessageRecord {
    /// Clears a run's rows, records its time scale and returns the statement that inserts one message (its
    /// arguments in ``insertColumns`` order).
    static func replaceRun(_ db: Database, runId: String, timeScale: Double) throws -> RawStatement {
        try PipelineStateRecord.clear(db, runId: runId)
        try db.execute(sql: "DELETE FROM pipelineDispatch WHERE runId = ?", arguments: [runId])
        try db.execute(sql: "DELETE FROM pipelineMessage WHERE runId = ?", arguments: [runId])
        try db.execute(
            sql: "INSERT OR REPLACE INTO pipelineRun (runId, timeScale) VALUES (?, ?)", arguments: [runId, timeScale])
        return try RawStatement(
            db,
            sql: """
                INSERT INTO pipelineMessage (runId, seq, deliveryId, source, receivedAt, productionTime, incidentId,
                    kind, planned, occurrence, sample, replyReused, replyId, outcome, failureClass, productionRoute,
                    route, routeReason, decisionIncidentId, confidence, actionNames, inputTokens, outputTokens)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
    }

    /// The statement that inserts one message's dispatch (runId, seq, dispatch, dispatchError, dispatchParameter,
    /// workflowTemplate, workflowArguments, workflows, droppedActions), after its message row.
    static func insertDispatch(_ db: Database) throws -> RawStatement {
        try RawStatement(
            db,
            sql: """
                INSERT INTO pipelineDispatch (runId, seq, dispatch, dispatchError, dispatchParameter, workflowTemplate,
                    workflowArguments, workflows, droppedActions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
    }

    /// A run's time scale; nil when it has no pipeline replay.
    static func timeScale(_ db: Database, runId: String) throws -> Double? {
        try Double.fetchOne(db, sql: "SELECT timeScale FROM pipelineRun WHERE runId = ?", arguments: [runId])
    }

    /// The production times of a run's first and last messages (in receive order), nil without messages.
    static func span(_ db: Database, runId: String) throws -> (first: Double, last: Double)? {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT (SELECT productionTime FROM pipelineMessage WHERE runId = ?1 ORDER BY seq LIMIT 1),
                    (SELECT productionTime FROM pipelineMessage WHERE runId = ?1 ORDER BY seq DESC LIMIT 1)
                """, arguments: [runId])
        guard let first: Double = row?[0], let last: Double = row?[1] else { return nil }
        return (first, last)
    }

    /// How many of a run's messages had no reply because their call failed.
    static func transportFailureCount(_ db: Database, runId: String) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM pipelineMessage WHERE runId = ? AND failureClass = 'transport'",
            arguments: [runId]) ?? 0
    }

    /// A run's messages in receive order, with the columns the report reads, in this order: productionTime,
    /// incidentId, kind, planned, replyReused, failureClass, productionRoute, route, decisionIncidentId,
    /// inputTokens, outputTokens, outcome, seq, dispatch, dispatchError, dispatchParameter, workflows,
    /// droppedActions, workflowTemplate.
    /// A raw statement: the report reads every message of a run, a million for a large corpus.
    /// The dispatch columns are NULL for a run without dispatch rows (read without the join then).
    static func reportRows(_ db: Database, runId: String) throws -> RawStatement {
        let dispatched =
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM pipelineDispatch WHERE runId = ?)", arguments: [runId]) ?? false
        let statement = try RawStatement(
            db,
            sql: dispatched
                ? """
                SELECT m.productionTime, m.incidentId, m.kind, m.planned, m.replyReused, m.failureClass,
                    m.productionRoute, m.route, m.decisionIncidentId, m.inputTokens, m.outputTokens, m.outcome, m.seq,
                    d.dispatch, d.dispatchError, d.dispatchParameter, d.workflows, d.droppedActions, d.workflowTemplate
                FROM pipelineMessage m LEFT JOIN pipelineDispatch d ON d.runId = m.runId AND d.seq = m.seq
                WHERE m.runId = ? ORDER BY m.seq
                """
                : """
                SELECT productionTime, incidentId, kind, planned, replyReused, failureClass, productionRoute, route,
                    decisionIncidentId, inputTokens, outputTokens, outcome, seq, NULL, NULL, NULL, NULL, NULL, NULL
                FROM pipelineMessage WHERE runId = ? ORDER BY seq
                """)
        statement.bind(1, runId)
        return statement
    }

    /// A run's messages in receive order, with every column the export writes, in ``PipelineExporter/columns``
    /// order (productionTime before receivedAt).
    static func exportRows(_ db: Database, runId: String) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT m.seq, m.deliveryId, m.productionTime, m.receivedAt, m.source, m.incidentId, m.kind, m.planned,
                    m.occurrence, m.sample, m.replyReused, m.outcome, m.failureClass, m.route, m.productionRoute,
                    m.decisionIncidentId, m.confidence, m.actionNames, m.inputTokens, m.outputTokens, d.dispatch,
                    d.dispatchError, d.workflowTemplate, d.workflowArguments, d.droppedActions
                FROM pipelineMessage m LEFT JOIN pipelineDispatch d ON d.runId = m.runId AND d.seq = m.seq
                WHERE m.runId = ? ORDER BY m.seq
                """,
            arguments: [runId])
    }
}

import GRDB

extension Store {
    /// The schema's history. Each migration is shipped once and never edited; a change is a new migration.
    ///
    /// See `docs/schema.md` for what every table and column means.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-skeleton") { db in
            // One row per distinct webhook body (after stripping one trailing LF). `body` holds the exact bytes.
            try db.execute(
                sql: """
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        body BLOB NOT NULL,
                        receiver TEXT NOT NULL,
                        groupKey TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
                        alertCount INTEGER NOT NULL,
                        truncatedAlerts INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        receivedAt REAL,
                        incidentId TEXT REFERENCES incident(id) DEFERRABLE INITIALLY DEFERRED,
                        corpus TEXT,
                        ingestedAt TEXT NOT NULL
                    );
                    CREATE INDEX delivery_incident ON delivery(incidentId);

                    -- Every later sighting of an already stored body (a repeat or a retry): nothing read is lost.
                    CREATE TABLE deliveryRepeat (
                        id INTEGER PRIMARY KEY,
                        deliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        source TEXT NOT NULL,
                        receivedAt REAL,
                        ingestedAt TEXT NOT NULL
                    );
                    CREATE INDEX deliveryRepeat_delivery ON deliveryRepeat(deliveryId);

                    -- The alerts of each stored delivery, in the order sent. Labels and annotations stay in the
                    -- delivery's body (stored once); the alertDetail view extracts them.
                    CREATE TABLE alert (
                        deliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        position INTEGER NOT NULL,
                        fingerprint TEXT NOT NULL,
                        status TEXT NOT NULL,
                        alertname TEXT,
                        startsAt TEXT NOT NULL,
                        endsAt TEXT NOT NULL,
                        PRIMARY KEY (deliveryId, position)
                    ) WITHOUT ROWID;
                    -- No index on fingerprint: it would slow every ingest; create one for heavy lookups by it.

                    CREATE VIEW alertDetail AS
                        SELECT alert.*,
                            json_extract(CAST(delivery.body AS TEXT), '$.alerts[' || alert.position || '].labels')
                                AS labels,
                            json_extract(CAST(delivery.body AS TEXT), '$.alerts[' || alert.position || '].annotations')
                                AS annotations
                        FROM alert JOIN delivery ON delivery.id = alert.deliveryId;

                    -- An incident: the deliveries of one (receiver, groupKey) from a firing delivery to a resolved one.
                    CREATE TABLE incident (
                        id TEXT PRIMARY KEY,
                        receiver TEXT NOT NULL,
                        groupKey TEXT NOT NULL,
                        alertname TEXT,
                        startsAt TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'superseded')),
                        firstDeliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        lastDeliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        deliveryCount INTEGER NOT NULL
                    );
                    CREATE INDEX incident_group ON incident(receiver, groupKey, status);

                    -- The alert occurrences (fingerprint, startsAt) seen in an incident, to tell separate ones apart.
                    CREATE TABLE incidentAlert (
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        fingerprint TEXT NOT NULL,
                        startsAt TEXT NOT NULL,
                        PRIMARY KEY (incidentId, fingerprint, startsAt)
                    ) WITHOUT ROWID;

                    -- Input that is not a valid webhook body, kept with where it came from and why it was refused.
                    CREATE TABLE quarantine (
                        id INTEGER PRIMARY KEY,
                        source TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        bytes BLOB NOT NULL,
                        byteCount INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        receivedAt REAL,
                        ingestedAt TEXT NOT NULL
                    );

                    -- Input files a run has already ingested or imported (by content), so runs do not re-read them.
                    CREATE TABLE corpusFile (
                        sha256 TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('deliveries', 'replies')),
                        path TEXT NOT NULL,
                        loadedAt TEXT NOT NULL,
                        PRIMARY KEY (sha256, kind)
                    ) WITHOUT ROWID;

                    -- Action catalogs, by content.
                    CREATE TABLE catalog (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        path TEXT NOT NULL,
                        format TEXT NOT NULL CHECK (format IN ('yaml', 'json')),
                        text TEXT NOT NULL,
                        json TEXT NOT NULL,
                        loadedAt TEXT NOT NULL
                    );

                    -- Expected outcomes, per corpus and incident.
                    CREATE TABLE label (
                        corpus TEXT NOT NULL,
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        expect TEXT NOT NULL CHECK (expect IN ('act', 'human', 'none')),
                        actions TEXT NOT NULL,
                        forbidden TEXT NOT NULL,
                        note TEXT,
                        source TEXT NOT NULL,
                        PRIMARY KEY (corpus, incidentId)
                    ) WITHOUT ROWID;

                    -- Model replies: the response cache. A live call stores its request key (requestSha256: everything
                    -- that shapes the answer) and event key (incident, userSha256, provider, model, sample); an
                    -- imported reply without its request has only the event key. text is NULL when the call ended
                    -- in an HTTP error that is a result (such as a context-length 400), kept in httpStatus/error.
                    CREATE TABLE reply (
                        id INTEGER PRIMARY KEY,
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        sample INTEGER NOT NULL CHECK (sample >= 0),
                        provider TEXT NOT NULL,
                        model TEXT NOT NULL,
                        requestSha256 TEXT,
                        userSha256 TEXT NOT NULL,
                        systemSha256 TEXT,
                        text TEXT,
                        stopReason TEXT,
                        usage TEXT,
                        inputTokens INTEGER,
                        outputTokens INTEGER,
                        httpStatus INTEGER,
                        error TEXT,
                        rawBody BLOB,
                        latencyMs REAL,
                        attempts INTEGER,
                        source TEXT NOT NULL,
                        recordedAt TEXT NOT NULL
                    );
                    CREATE INDEX reply_request ON reply(requestSha256);
                    CREATE INDEX reply_event ON reply(incidentId, userSha256, provider, model, sample);

                    -- One evaluation run of a scenario.
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY,
                        scenario TEXT NOT NULL,
                        scenarioPath TEXT NOT NULL,
                        scenarioText TEXT NOT NULL,
                        config TEXT NOT NULL,
                        corpus TEXT NOT NULL,
                        catalogId INTEGER NOT NULL REFERENCES catalog(id),
                        systemPromptSha256 TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        model TEXT NOT NULL,
                        samples INTEGER NOT NULL,
                        threshold REAL NOT NULL,
                        approvalGate INTEGER NOT NULL,
                        cacheMode TEXT NOT NULL,
                        matchMode TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
                        startedAt TEXT NOT NULL,
                        finishedAt TEXT
                    );

                    -- One row per (run, incident, sample): the reply's verdict, route and scores.
                    CREATE TABLE result (
                        runId TEXT NOT NULL REFERENCES run(id),
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        sample INTEGER NOT NULL,
                        replyId INTEGER REFERENCES reply(id),
                        cacheHit INTEGER NOT NULL,
                        stale INTEGER NOT NULL,
                        transportError TEXT,
                        outcome TEXT NOT NULL,
                        failureClass TEXT NOT NULL,
                        errors TEXT NOT NULL,
                        syntaxErrorOffset INTEGER,
                        decision TEXT,
                        confidence REAL,
                        needsHuman INTEGER,
                        actionNames TEXT NOT NULL,
                        policyViolations TEXT NOT NULL,
                        productionRoute TEXT NOT NULL,
                        route TEXT NOT NULL,
                        routeReason TEXT NOT NULL,
                        expect TEXT NOT NULL,
                        expectedRoute TEXT NOT NULL,
                        decisionCorrect INTEGER NOT NULL,
                        routeCorrect INTEGER NOT NULL,
                        unsafe INTEGER NOT NULL,
                        PRIMARY KEY (runId, incidentId, sample)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2-label-rules-and-sweeps") { db in
            try db.execute(
                sql: """
                    -- Labels from rules: acceptable alternative action sets, and whether a rule or a person labelled
                    -- the incident. actions and alternatives hold parameter matchers: a string (exact), {"regex": …}
                    -- or {"any": true}.
                    ALTER TABLE label ADD COLUMN alternatives TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE label ADD COLUMN origin TEXT NOT NULL DEFAULT 'incident'
                        CHECK (origin IN ('rule', 'incident'));

                    -- What each result would score at any threshold, for threshold sweeps: whether its decision
                    -- would be right and whether it would be unsafe if executed, and whether the approval gate
                    -- holds it. Per-action outcomes (JSON lists of action names) for precision and recall.
                    ALTER TABLE result ADD COLUMN correctIfExecuted INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE result ADD COLUMN unsafeIfExecuted INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE result ADD COLUMN gated INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE result ADD COLUMN actionsMatched TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE result ADD COLUMN actionsExtra TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE result ADD COLUMN actionsMissed TEXT NOT NULL DEFAULT '[]';
                    """
            )
        }
        migrator.registerMigration("v3-run-label-sets") { db in
            try db.execute(
                sql: """
                    -- The labels a run was judged against, kept by content: a run names its set, so its report and
                    -- comparisons never change when labels.yaml is edited. Runs with the same labels share a set.
                    CREATE TABLE labelSet (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        corpus TEXT NOT NULL,
                        labelCount INTEGER NOT NULL,
                        createdAt TEXT NOT NULL
                    );
                    -- One label of a set; the columns of the label table it replaces.
                    CREATE TABLE labelSetEntry (
                        labelSetId INTEGER NOT NULL REFERENCES labelSet(id),
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        expect TEXT NOT NULL CHECK (expect IN ('act', 'human', 'none')),
                        actions TEXT NOT NULL,
                        alternatives TEXT NOT NULL,
                        forbidden TEXT NOT NULL,
                        note TEXT,
                        source TEXT NOT NULL,
                        origin TEXT NOT NULL CHECK (origin IN ('rule', 'incident')),
                        PRIMARY KEY (labelSetId, incidentId)
                    ) WITHOUT ROWID;
                    -- The run's label set, and how many incidents its corpus had when it ran (for coverage).
                    ALTER TABLE run ADD COLUMN labelSetId INTEGER REFERENCES labelSet(id);
                    ALTER TABLE run ADD COLUMN corpusIncidents INTEGER;
                    """
            )
            // A store made before: each corpus's labels (those of its last run) become the set of that corpus's
            // runs, keyed by a name no content digest can take. Plain SQL, so that the migration never changes.
            try db.execute(
                sql: """
                    INSERT INTO labelSet (sha256, corpus, labelCount, createdAt)
                        SELECT 'v2-labels-of-corpus:' || corpus, corpus, COUNT(*), strftime('%Y-%m-%dT%H:%M:%SZ')
                        FROM label GROUP BY corpus ORDER BY corpus;
                    INSERT INTO labelSetEntry (labelSetId, incidentId, expect, actions, alternatives, forbidden, note,
                            source, origin)
                        SELECT labelSet.id, label.incidentId, label.expect, label.actions, label.alternatives,
                            label.forbidden, label.note, label.source, label.origin
                        FROM label JOIN labelSet ON labelSet.sha256 = 'v2-labels-of-corpus:' || label.corpus;
                    UPDATE run SET labelSetId = (
                        SELECT id FROM labelSet WHERE sha256 = 'v2-labels-of-corpus:' || run.corpus);
                    UPDATE run SET corpusIncidents = (
                        SELECT COUNT(DISTINCT incidentId) FROM delivery
                        WHERE delivery.corpus = run.corpus AND incidentId IS NOT NULL);
                    DROP TABLE label;
                    """)
        }
        migrator.registerMigration("v4-quarantine-seen-once") { db in
            try db.execute(
                sql: """
                    -- A unit is quarantined once per (content, source); reading it again counts a sighting, as a
                    -- delivery's repeats are counted. Rows duplicated by earlier re-ingests fold into one.
                    ALTER TABLE quarantine ADD COLUMN seenCount INTEGER NOT NULL DEFAULT 1;
                    UPDATE quarantine SET seenCount = (
                        SELECT COUNT(*) FROM quarantine AS other
                        WHERE other.sha256 = quarantine.sha256 AND other.source = quarantine.source);
                    DELETE FROM quarantine WHERE id NOT IN (SELECT MIN(id) FROM quarantine GROUP BY sha256, source);
                    CREATE UNIQUE INDEX quarantine_unit ON quarantine(sha256, source);
                    """)
        }
        migrator.registerMigration("v5-run-lease") { db in
            try db.execute(
                sql: """
                    -- The process replaying a run: one at a time, so that two `run --resume` of one run never
                    -- call the model twice for a sample nor store it twice.
                    CREATE TABLE runLease (
                        runId TEXT PRIMARY KEY NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        pid INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        since TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v6-pipeline-messages") { db in
            try db.execute(
                sql: """
                    -- The pipeline replay of a run: one row per message (a sighting of a delivery) in receive order,
                    -- planned or not, with the reply it took and production's verdict and route.
                    CREATE TABLE pipelineMessage (
                        runId TEXT NOT NULL REFERENCES run(id),
                        seq INTEGER NOT NULL,
                        deliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        source TEXT NOT NULL,
                        receivedAt REAL NOT NULL,
                        productionTime REAL NOT NULL,
                        incidentId TEXT REFERENCES incident(id),
                        kind TEXT NOT NULL CHECK (kind IN ('first', 'repeat', 'update', 'resolved')),
                        planned INTEGER NOT NULL,
                        occurrence INTEGER,
                        sample INTEGER,
                        replyReused INTEGER NOT NULL,
                        replyId INTEGER REFERENCES reply(id),
                        outcome TEXT,
                        failureClass TEXT,
                        productionRoute TEXT,
                        route TEXT,
                        routeReason TEXT,
                        decisionIncidentId TEXT,
                        confidence REAL,
                        actionNames TEXT,
                        inputTokens INTEGER,
                        outputTokens INTEGER,
                        PRIMARY KEY (runId, seq)
                    ) WITHOUT ROWID;

                    -- What a run's pipeline replay was run with, beside the scenario stored with the run.
                    CREATE TABLE pipelineRun (
                        runId TEXT PRIMARY KEY NOT NULL REFERENCES run(id),
                        timeScale REAL NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v7-delivery-events") { db in
            try db.execute(
                sql: """
                    -- The SHA-256 of each delivery's user message (json.dumps of its event: the body with the
                    -- incident id inserted), derived data kept so that a rerun finds its replies without encoding
                    -- every event again. encoding names how it was computed (Planner.userMessageEncoding); a row
                    -- of another encoding is never read.
                    CREATE TABLE deliveryEvent (
                        deliveryId INTEGER NOT NULL REFERENCES delivery(id),
                        incidentId TEXT NOT NULL REFERENCES incident(id),
                        encoding INTEGER NOT NULL,
                        userSha256 TEXT NOT NULL,
                        PRIMARY KEY (deliveryId, incidentId)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v8-corpus-file-stat") { db in
            try db.execute(
                sql: """
                    -- The SHA-256 last computed for each corpus file a run checked, with the file's size,
                    -- modification time and inode then: a run rehashes a file only when one of them changed.
                    CREATE TABLE corpusFileStat (
                        path TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        modifiedNs INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        computedAt TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v9-delivery-timeline") { db in
            try db.execute(
                sql: """
                    -- What the pipeline replay reads of each delivery, beside the body: its scans of a corpus
                    -- (the timeline, untimed sightings, the deliveries without a stored digest) read this index
                    -- alone instead of every body's pages.
                    CREATE INDEX delivery_timeline
                        ON delivery(corpus, receivedAt, ingestedAt, incidentId, status, source);
                    """)
        }
        migrator.registerMigration("v10-pipeline-dispatch") { db in
            try db.execute(
                sql: """
                    -- The dispatch of a planned pipeline message's decision through the scenario's Sensors, for a
                    -- run whose scenario has pipeline.manifests (a table of its own: a replay without manifests
                    -- writes and reads pipelineMessage rows as narrow as before). dispatch: submitted,
                    -- no_dependency, trigger_error, template_not_found, missing_parameter, or not_routed (the
                    -- production route is not execute); the first failure's message and parameter; the first
                    -- Workflow's template and arguments (a JSON object); how many Workflows were submitted and how
                    -- many of the decision's actions none of them reads (NULL when not routed).
                    CREATE TABLE pipelineDispatch (
                        runId TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        dispatch TEXT NOT NULL CHECK (dispatch IN ('submitted', 'no_dependency', 'trigger_error',
                            'template_not_found', 'missing_parameter', 'not_routed')),
                        dispatchError TEXT,
                        dispatchParameter TEXT,
                        workflowTemplate TEXT,
                        workflowArguments TEXT,
                        workflows INTEGER NOT NULL,
                        droppedActions INTEGER,
                        PRIMARY KEY (runId, seq),
                        FOREIGN KEY (runId, seq) REFERENCES pipelineMessage(runId, seq)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v11-pipeline-state") { db in
            try db.execute(
                sql: """
                    -- The state rules of a run's pipeline replay (idempotency, deploy suppression, parallelism,
                    -- approvals, the audit chain), written as the replay steps its clock. Production time is Unix
                    -- seconds throughout.

                    -- Every Workflow a decision submitted, or would have had the Sensor not refused it: via
                    -- execute, or approve (submitted once its request was approved); the catalog action, template
                    -- and arguments (workflowIncidentId: the incident_id argument, i.e. the model's; params: the
                    -- others as a JSON object); the event's incident; when it was dispatched, why it did not run
                    -- (deploy: refused in a deploy window; idempotency: found its key), the deploy (an ordinal
                    -- into pipelineDeploy) that suppressed it or that it ran during; when it started and ended
                    -- (NULL if never submitted); its key, what the check found (set, set_after_expiry, held) and
                    -- who held it; whether its action ran, the harms of a run (a JSON list) and whether it was
                    -- correct.
                    CREATE TABLE pipelineWorkflow (
                        runId TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        ordinal INTEGER NOT NULL,
                        via TEXT NOT NULL CHECK (via IN ('execute', 'approve')),
                        action TEXT NOT NULL,
                        workflowTemplate TEXT,
                        workflowIncidentId TEXT,
                        params TEXT NOT NULL,
                        incidentId TEXT NOT NULL,
                        dispatchedAt REAL NOT NULL,
                        suppressedBy TEXT CHECK (suppressedBy IN ('deploy', 'idempotency')),
                        deploy INTEGER,
                        startedAt REAL,
                        finishedAt REAL,
                        idempotencyKey TEXT,
                        keyState TEXT CHECK (keyState IN ('set', 'set_after_expiry', 'held')),
                        keyHolder TEXT,
                        executed INTEGER NOT NULL,
                        harm TEXT,
                        correct INTEGER,
                        PRIMARY KEY (runId, seq, ordinal),
                        FOREIGN KEY (runId, seq) REFERENCES pipelineMessage(runId, seq)
                    ) WITHOUT ROWID;

                    -- Every approval request (a decision routed to approve): how it was answered and when, and
                    -- for an approved one the dispatch on remediation.approve and the Workflows it submitted.
                    CREATE TABLE pipelineApproval (
                        runId TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        incidentId TEXT NOT NULL,
                        postedAt REAL NOT NULL,
                        answer TEXT NOT NULL CHECK (answer IN ('approved', 'rejected', 'expired')),
                        answeredAt REAL NOT NULL,
                        dispatch TEXT,
                        workflows INTEGER NOT NULL,
                        PRIMARY KEY (runId, seq),
                        FOREIGN KEY (runId, seq) REFERENCES pipelineMessage(runId, seq)
                    ) WITHOUT ROWID;

                    -- The seed's remediation_audit rows, one per Workflow that ran, in append order: the columns,
                    -- rowBytes (the RFC 8785 canonical JSON of the row, the bytes hashed, kept verbatim), prevHash
                    -- (32 zero bytes for the first) and thisHash = SHA-256(prevHash || rowBytes); seq and ordinal
                    -- name the Workflow. createdAt is RFC 3339 UTC text, as hashed.
                    CREATE TABLE pipelineAudit (
                        runId TEXT NOT NULL,
                        id INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        ordinal INTEGER NOT NULL,
                        incidentId TEXT NOT NULL,
                        action TEXT NOT NULL,
                        params TEXT NOT NULL,
                        result TEXT NOT NULL,
                        createdAt TEXT NOT NULL,
                        rowBytes BLOB NOT NULL,
                        prevHash BLOB NOT NULL,
                        thisHash BLOB NOT NULL,
                        PRIMARY KEY (runId, id)
                    ) WITHOUT ROWID;

                    -- The state rules a run's replay ran with (PipelineStateReport.Settings as JSON); NULL for a
                    -- replay made before they existed.
                    ALTER TABLE pipelineRun ADD COLUMN stateRules TEXT;

                    -- The deploy timeline a run's replay used, in start order.
                    CREATE TABLE pipelineDeploy (
                        runId TEXT NOT NULL,
                        ordinal INTEGER NOT NULL,
                        service TEXT NOT NULL,
                        namespace TEXT,
                        cluster TEXT,
                        start REAL NOT NULL,
                        "end" REAL NOT NULL,
                        revision TEXT,
                        source TEXT NOT NULL,
                        PRIMARY KEY (runId, ordinal)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v12-run-shard") { db in
            try db.execute(
                sql: """
                    -- The shard a run is (`run --shard I/N`: 'I/N'), NULL for a whole run; and for a merged run,
                    -- how many shards it was merged from.
                    ALTER TABLE run ADD COLUMN shard TEXT;
                    ALTER TABLE run ADD COLUMN mergedShards INTEGER;
                    """)
        }
        migrator.registerMigration("v13-repeat-timeline") { db in
            try db.execute(
                sql: """
                    -- A corpus's repeats in receive order (the rowid, their id, ends the key): the pipeline replay
                    -- merges them with its deliveries (delivery_timeline) instead of sorting every sighting.
                    CREATE INDEX deliveryRepeat_timeline ON deliveryRepeat(receivedAt, ingestedAt);
                    """)
        }
        migrator.registerMigration("v14-delivery-event-targets") { db in
            try db.execute(
                sql: """
                    -- The distinct deploy targets of the delivery's alerts (their service, namespace, deployment
                    -- and cluster labels), derived from the body beside its digest so that the pipeline replay's
                    -- deploy suppression reads them with the timeline instead of walking every body again: a JSON
                    -- list of [service, namespace, deployment, cluster] lists, null for a label an alert lacks.
                    -- NULL for a row stored before this column: the digest step computes the row again.
                    ALTER TABLE deliveryEvent ADD COLUMN targets TEXT;
                    """)
        }
        return migrator
    }
}

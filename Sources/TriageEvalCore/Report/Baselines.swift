import Foundation
import GRDB

/// A run's headline measures, and the same measures for two strategies that never ask a model, scored on the
/// run's labels over the same replies: what a model has to beat before it is worth deploying.
///
/// - **always defer**: every incident answered `{"actions": [], "needs_human": true}` — a person handles
///   everything. It is right on every `human` and `none` label (nothing done, nothing forbidden proposed), so a
///   model's accuracy means little until it is compared with this.
/// - **the rule's most common action**: a static runbook. Incidents are grouped by the label rule that labelled
///   them (a hand-written label by its alert type), and each group always gets the expectation most of its
///   incidents have — an incident whose own label has that shape is handled as its label says (the runbook fills
///   parameters from the alert, as the rule does); the others get the group's action, with the parameters of its
///   first such incident.
package struct Baselines: Codable, Sendable, Equatable {
    /// The measures of the model or of a baseline over the run's replies.
    package struct Measures: Codable, Sendable, Equatable {
        /// Right decisions / replies (``Scorer``'s `decision_correct`).
        package var decisionAccuracy: Rate
        /// Right routes / replies.
        package var routeAccuracy: Rate
        /// `act` replies whose expected action was carried out — an acceptable action set, routed where the label
        /// says (executed, or held for the approval the catalog requires) — / `act` replies.
        package var actRecall: Rate
        /// Replies routed to execute, handled with no person / replies.
        package var automationRate: Rate
        /// Replies routed to execute with an action the label does not allow / replies.
        package var unsafeExecutions: Rate

        enum CodingKeys: String, CodingKey {
            case decisionAccuracy = "decision_accuracy"
            case routeAccuracy = "route_accuracy"
            case actRecall = "act_recall"
            case automationRate = "automation_rate"
            case unsafeExecutions = "unsafe_executions"
        }
    }

    /// The model's decision accuracy minus always-defer's, with the percentile interval of a bootstrap that
    /// resamples incidents (all samples of an incident together).
    package struct Lift: Codable, Sendable, Equatable {
        /// Percentage points as a fraction: 0.12 is 12 pp.
        package var delta: Double
        package var lower: Double
        package var upper: Double
        /// Clusters resampled — incidents, or label rules or alert types (`report.resample`) — what they are
        /// (`incidents`, `label rules`, `alert types`), resamples drawn and the generator's seed (both 0 above
        /// ``Statistics/clusterBootstrapLimit`` clusters, where the interval is the bootstrap's normal limit).
        package var clusters: Int
        package var unit: String
        package var resamples: Int
        package var seed: UInt64
    }

    package var alwaysDefer: Measures
    package var ruleMostCommonAction: Measures
    /// Nil when the run has no reply.
    package var liftVsAlwaysDefer: Lift?

    enum CodingKeys: String, CodingKey {
        case alwaysDefer = "always_defer"
        case ruleMostCommonAction = "rule_most_common_action"
        case liftVsAlwaysDefer = "lift_vs_always_defer"
    }
}

/// What a strategy does with one incident, as the measures count it.
struct BaselineOutcome: Sendable, Equatable {
    var decisionCorrect: Bool
    var routeCorrect: Bool
    var unsafe: Bool
    var executed: Bool
    /// An `act` incident whose expected action was carried out.
    var actRecalled: Bool

    /// Scores a decision no model made, exactly as a reply's would be.
    init(label: Label, decision: Decision, router: Router) {
        let verdict = Verdict(
            outcome: .ok, errors: [], decision: decision, unknownAction: nil, failureClass: .ok,
            syntaxErrorOffset: nil)
        let route = router.route(verdict).route
        let score = Scorer.score(label: label, verdict: verdict, route: route, router: router)
        self.init(
            decisionCorrect: score.decisionCorrect, routeCorrect: score.routeCorrect, unsafe: score.unsafe,
            executed: route == .execute)
        actRecalled = label.expect == .act && score.decisionCorrect && score.routeCorrect
    }

    init(decisionCorrect: Bool, routeCorrect: Bool, unsafe: Bool, executed: Bool, actRecalled: Bool = false) {
        self.decisionCorrect = decisionCorrect
        self.routeCorrect = routeCorrect
        self.unsafe = unsafe
        self.executed = executed
        self.actRecalled = actRecalled
    }

    /// A reply's stored scores.
    init(_ result: ScannedResult) {
        self.init(
            decisionCorrect: result.decisionCorrect, routeCorrect: result.routeCorrect, unsafe: result.unsafe,
            executed: result.route == Route.execute.rawValue,
            actRecalled: result.expect == ExpectedOutcome.act.rawValue && result.decisionCorrect
                && result.routeCorrect)
    }
}

/// Each labelled incident's baseline outcomes and alert type, read once before the scan.
struct BaselinePlan {
    var alwaysDefer: [String: BaselineOutcome] = [:]
    var ruleMostCommonAction: [String: BaselineOutcome] = [:]
    var alertTypes: [String: String] = [:]
    /// The run's catalog's action names, in its order.
    var catalogActions: [String] = []
    /// The rule that labelled each incident (`labels.yaml:line`); a hand-written label is its own.
    var labelRules: [String: String] = [:]

    /// The decision always-defer gives every incident.
    static let deferral = Decision(incidentId: "", actions: [], confidence: 0, needsHuman: true)

    init(labels: [Label], alertTypes: [String: String], router: Router) {
        self.alertTypes = alertTypes
        func shape(_ label: Label) -> String {
            "\(label.expect.rawValue):" + label.actions.map(\.name).sorted().joined(separator: ",")
        }
        func group(_ label: Label) -> String {
            label.byRule ? "rule \(label.source)" : "alert \(alertTypes[label.incidentId] ?? "")"
        }
        // Each label's group and shape, made once (a run can have 100,000 labels).
        let keys = labels.map { (group: group($0), shape: shape($0)) }
        // Each group's most common shape, the first incident (in incident order) of the shape standing for it; a
        // tie goes to the shape seen first.
        var counts: [String: [String: (count: Int, order: Int, exemplar: Label)]] = [:]
        for (order, (label, key)) in zip(labels, keys).enumerated() {
            counts[key.group, default: [:]][key.shape, default: (0, order, label)].count += 1
        }
        let chosen = counts.mapValues { shapes in
            let best = shapes.max { ($0.value.count, -$0.value.order) < ($1.value.count, -$1.value.order) }!
            return (shape: best.key, exemplar: best.value.exemplar)
        }
        for (label, key) in zip(labels, keys) {
            labelRules[label.incidentId] = label.byRule ? "rule \(label.source)" : "incident \(label.incidentId)"
            alwaysDefer[label.incidentId] = BaselineOutcome(label: label, decision: Self.deferral, router: router)
            let (chosenShape, exemplar) = chosen[key.group]!
            if chosenShape == key.shape {
                let expected = Scorer.expectedRoute(label, router: router)
                ruleMostCommonAction[label.incidentId] = BaselineOutcome(
                    decisionCorrect: true, routeCorrect: true, unsafe: false, executed: expected == .execute,
                    actRecalled: label.expect == .act)
            } else {
                ruleMostCommonAction[label.incidentId] = BaselineOutcome(
                    label: label, decision: Self.decision(standingFor: exemplar), router: router)
            }
        }
    }

    /// A decision doing what a label expects: its first action set with the parameters' exact values (a pattern
    /// stands for itself, any value for an empty one), a person for `human`, nothing for `none`.
    static func decision(standingFor label: Label) -> Decision {
        guard label.expect == .act else {
            return Decision(incidentId: "", actions: [], confidence: 1, needsHuman: label.expect == .human)
        }
        let actions = label.actions.map { action in
            DecisionAction(
                name: action.name,
                params: action.params.keys.sorted().map { key in
                    switch action.params[key]! {
                    case .exact(let value): return .init(name: key, value: value)
                    case .regex(let pattern): return .init(name: key, value: pattern)
                    case .any: return .init(name: key, value: "")
                    }
                }, rationale: "baseline")
        }
        return Decision(incidentId: "", actions: actions, confidence: 1, needsHuman: false)
    }

    /// The run's labels, the alert type of each labelled incident and the router its replies were routed by.
    static func read(_ db: Database, runId: String, threshold: Double, approvalGate: Bool) throws -> BaselinePlan {
        let labels = try Store.labels(ofRun: runId, in: db).map(\.label)
        var alertTypes: [String: String] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT incident.id, incident.alertname FROM incident
                JOIN labelSetEntry ON labelSetEntry.incidentId = incident.id
                JOIN run ON run.labelSetId = labelSetEntry.labelSetId WHERE run.id = ?
                """,
            arguments: [runId])
        while let row = try rows.next() { alertTypes[row[0]] = row[1] ?? "(no alertname)" }
        let catalog = try CatalogRecord.catalog(ofRun: try RunRecord.find(db, id: runId), in: db)
        let router = Router(
            threshold: threshold, approvalGate: approvalGate,
            approvalRequired: Set(catalog.actions.filter(\.requiresApproval).map(\.name)))
        var plan = BaselinePlan(labels: labels, alertTypes: alertTypes, router: router)
        plan.catalogActions = catalog.actions.map(\.name)
        return plan
    }
}

/// Counts of one strategy's outcomes over replies.
struct MeasureCounts {
    var replies = 0
    var decisionCorrect = 0
    var routeCorrect = 0
    var act = 0
    var actRecalled = 0
    var executed = 0
    var unsafe = 0

    mutating func add(_ outcome: BaselineOutcome, act isAct: Bool) {
        replies += 1
        if outcome.decisionCorrect { decisionCorrect += 1 }
        if outcome.routeCorrect { routeCorrect += 1 }
        if isAct { act += 1 }
        if outcome.actRecalled { actRecalled += 1 }
        if outcome.executed { executed += 1 }
        if outcome.unsafe { unsafe += 1 }
    }

    var measures: Baselines.Measures {
        Baselines.Measures(
            decisionAccuracy: Rate(decisionCorrect, of: replies), routeAccuracy: Rate(routeCorrect, of: replies),
            actRecall: Rate(actRecalled, of: act), automationRate: Rate(executed, of: replies),
            unsafeExecutions: Rate(unsafe, of: replies))
    }
}

/// The model's measures and the baselines' over the same replies, and the model's lift over always-defer per
/// incident.
struct BaselineTally: ResultTally {
    let plan: BaselinePlan
    var model = MeasureCounts()
    var alwaysDefer = MeasureCounts()
    var ruleMostCommonAction = MeasureCounts()
    /// Per cluster — an incident unless the report resamples otherwise: Σ(model − defer) over its replies, and
    /// how many replies.
    var liftTotals: [Int] = []
    var liftCounts: [Int] = []
    private var lastIncident: String?

    init(plan: BaselinePlan) {
        self.plan = plan
    }

    /// Counts a result of a numbered cluster (``ClusterTally/cluster(of:)``).
    mutating func add(_ result: ScannedResult, cluster: Int) {
        // Every cluster is drawn from, even one with only transport failures: the draws are the rates' draws.
        while liftTotals.count <= cluster {
            liftTotals.append(0)
            liftCounts.append(0)
        }
        guard !result.isTransport else { return }
        count(result, into: cluster)
    }

    /// Counts a result, each incident a cluster (results come sorted by incident).
    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        if result.incidentId != lastIncident {
            lastIncident = result.incidentId
            liftTotals.append(0)
            liftCounts.append(0)
        }
        count(result, into: liftTotals.count - 1)
    }

    private mutating func count(_ result: ScannedResult, into cluster: Int) {
        let isAct = result.expect == ExpectedOutcome.act.rawValue
        let own = BaselineOutcome(result)
        model.add(own, act: isAct)
        let deferral = plan.alwaysDefer[result.incidentId]
        if let deferral { alwaysDefer.add(deferral, act: isAct) }
        if let runbook = plan.ruleMostCommonAction[result.incidentId] { ruleMostCommonAction.add(runbook, act: isAct) }
        liftTotals[cluster] += (own.decisionCorrect ? 1 : 0) - (deferral?.decisionCorrect == true ? 1 : 0)
        liftCounts[cluster] += 1
    }

    /// The baselines, the lift's interval resampling the clusters counted (`unit` names them).
    func baselines(unit: String) -> Baselines {
        let lift: Baselines.Lift?
        if liftTotals.count > Statistics.clusterBootstrapLimit {
            // The bootstrap's normal limit, as for every rate over this many clusters.
            var counts = Statistics.ClusterCounts()
            for (cluster, (total, count)) in zip(liftTotals, liftCounts).enumerated() where count > 0 {
                counts.append(cluster: cluster, hits: Int32(total), rows: Int32(count))
            }
            let rows = liftCounts.reduce(0, +)
            lift = Statistics.clusterNormalInterval(counts, clamp: false).map { interval in
                Baselines.Lift(
                    delta: Double(liftTotals.reduce(0, +)) / Double(max(rows, 1)), lower: interval.lower,
                    upper: interval.upper, clusters: liftTotals.count, unit: unit, resamples: 0, seed: 0)
            }
        } else {
            lift = Statistics.clusterBootstrap(
                totals: liftTotals, counts: liftCounts, resamples: ClusterTally.resamples, seed: ClusterTally.seed
            ).map { bootstrap in
                Baselines.Lift(
                    delta: bootstrap.delta, lower: bootstrap.lower, upper: bootstrap.upper, clusters: liftTotals.count,
                    unit: unit, resamples: bootstrap.resamples, seed: bootstrap.seed)
            }
        }
        return Baselines(
            alwaysDefer: alwaysDefer.measures, ruleMostCommonAction: ruleMostCommonAction.measures,
            liftVsAlwaysDefer: lift)
    }
}

/// Per alert type: incidents, replies, decision and route accuracy, unsafe executions.
struct AlertTypeTally: ResultTally {
    let alertTypes: [String: String]
    var rows: [String: (incidents: Int, counts: MeasureCounts)] = [:]
    private var lastIncident: String?

    init(alertTypes: [String: String]) {
        self.alertTypes = alertTypes
    }

    private var lastType = ""

    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        // Results come sorted by incident: a new id is a new incident, and the only time its type is looked up.
        if result.incidentId != lastIncident {
            lastIncident = result.incidentId
            lastType = alertTypes[result.incidentId] ?? "(no alertname)"
            rows[lastType, default: (0, MeasureCounts())].incidents += 1
        }
        rows[lastType]!.counts.add(BaselineOutcome(result), act: result.expect == ExpectedOutcome.act.rawValue)
    }

    /// Busiest first, then by name.
    var table: [RunReport.AlertTypeRow] {
        rows.map { type, row in
            RunReport.AlertTypeRow(
                alertType: type, incidents: row.incidents, replies: row.counts.replies,
                decisionAccuracy: Rate(row.counts.decisionCorrect, of: row.counts.replies),
                routeAccuracy: Rate(row.counts.routeCorrect, of: row.counts.replies),
                unsafeExecutions: Rate(row.counts.unsafe, of: row.counts.replies))
        }
        .sorted { ($0.incidents, $1.alertType) > ($1.incidents, $0.alertType) }
    }
}

/// The route-based measures under one router: production's own (the seed's code as written) or the scenario's,
/// with the policies it adds (the approval gate).
package struct RouteView: Codable, Sendable, Equatable {
    /// The scenario's policies this view applies: `[]` for production's route, `["approval_gate"]` for a
    /// scenario's final route with the gate on.
    package var policies: [String]
    package var measures: Baselines.Measures
    /// Replies by route.
    package var routes: [String: Int]
    /// Replies by the route the label implies under this router (rows), then by the route taken.
    package var routeConfusion: [String: [String: Int]]
    /// The threshold sweep under this router (production's view only: the final route's is the report's
    /// `thresholdSweep`).
    package var thresholdSweep: ThresholdSweep?
}

extension BaselineOutcome {
    /// A reply's scores under production's route: the seed's router has no approval gate, so an `act` label
    /// expects execute, and a decision the gate held would have executed.
    init(production result: ScannedResult) {
        let route = result.productionRoute
        let execute = Route.execute.rawValue
        let routeCorrect: Bool
        switch ExpectedOutcome(rawValue: result.expect) ?? .human {
        case .act: routeCorrect = route == execute
        case .human: routeCorrect = route == Route.approve.rawValue
        case .none: routeCorrect = route == execute && result.choseNothing
        }
        // A `human` decision is right where it reaches a person; anything else is right or wrong whatever the route.
        let decisionCorrect =
            result.expect == ExpectedOutcome.human.rawValue
            ? result.decisionCorrect && route == Route.approve.rawValue : result.decisionCorrect
        self.init(
            decisionCorrect: decisionCorrect, routeCorrect: routeCorrect,
            unsafe: route == execute && result.unsafeIfExecuted, executed: route == execute,
            actRecalled: result.expect == ExpectedOutcome.act.rawValue && decisionCorrect && routeCorrect)
    }

    /// The route production's router expects for a label: execute for `act` and `none`, approve for `human`.
    static func productionExpectedRoute(_ expect: String) -> String {
        expect == ExpectedOutcome.human.rawValue ? Route.approve.rawValue : Route.execute.rawValue
    }
}

/// Production's route, tallied beside the scenario's.
struct ProductionRouteTally: ResultTally {
    var counts = MeasureCounts()
    /// Replies by expected route (rows) and production's route (columns), in ``Route/allCases`` order.
    var confusion = [[Int]](repeating: [0, 0, 0], count: Route.allCases.count)

    mutating func add(_ result: ScannedResult) {
        guard !result.isTransport else { return }
        counts.add(BaselineOutcome(production: result), act: result.expect == ExpectedOutcome.act.rawValue)
        let expected = result.expect == ExpectedOutcome.human.rawValue ? 1 : 0
        confusion[expected][Self.index(result.productionRoute)] += 1
    }

    private static func index(_ route: String) -> Int {
        switch route {
        case Route.execute.rawValue: return 0
        case Route.approve.rawValue: return 1
        default: return 2
        }
    }

    /// Production's view, with its own threshold sweep when the scenario's gate changes it.
    func view(sweep: ThresholdSweep?) -> RouteView {
        let names = Route.allCases.map(\.rawValue)
        var routes: [String: Int] = [:]
        var table: [String: [String: Int]] = [:]
        for (row, expected) in names.enumerated() {
            table[expected] = Dictionary(uniqueKeysWithValues: zip(names, confusion[row]))
        }
        for (column, route) in names.enumerated() { routes[route] = confusion.reduce(0) { $0 + $1[column] } }
        return RouteView(
            policies: [], measures: counts.measures, routes: routes, routeConfusion: table, thresholdSweep: sweep)
    }
}

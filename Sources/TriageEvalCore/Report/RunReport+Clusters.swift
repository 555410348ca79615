import Foundation

/// Intervals that resample clusters of rows — incidents, label rules or alert types — for the incident-level
/// rates of a report, once its rows are not independent: several samples per incident, or a grouping the
/// scenario asks for (`report.resample`). Every rate is counted per cluster during the report's one scan; the
/// intervals then share one set of bootstrap draws (``Statistics/clusterIntervals(_:clusterCount:resamples:seed:)``).
struct ClusterTally {
    static let resamples = 1000
    static let seed: UInt64 = 20_261_129

    let unit: ReportSettings.Resample
    private let plan: BaselinePlan
    private let threshold: Double
    private let correctnessByRoute: Bool
    /// The rates counted over replies besides the measures: invalid JSON, not an object, schema, unknown action
    /// (of replies), refused by the strict policy (of ok decisions), confident errors (of wrong decisions with a
    /// confidence in [0, 1]).
    private var others = [Statistics.ClusterCounts](repeating: .init(), count: 7)
    private static var otherPaths: [WritableKeyPath<RunReport, Rate>] {
        [
            \.invalidJSON.invalid, \.invalidJSON.notObject, \.invalidJSON.schema, \.invalidJSON.unknownAction,
            \.strictPolicy.refusedDecisions, \.calibration.confidentErrors, \.outOfRangeConfidences!.share!,
        ]
    }
    private static let invalidClasses = Set(FailureClass.allCases.filter(\.isInvalidJSON).map(\.rawValue))
    /// Each invalid-JSON class, and each kind of strict-policy violation (ok decisions with one), per cluster.
    private static let invalidClassNames = FailureClass.allCases.filter(\.isInvalidJSON).map(\.rawValue)
    private static let violationKinds = PolicyViolation.Kind.allCases.map(\.rawValue)
    private var byClass = [Statistics.ClusterCounts](repeating: .init(), count: invalidClassNames.count)
    private var byKind = [Statistics.ClusterCounts](repeating: .init(), count: violationKinds.count)
    /// The five measures of the model, production's route, always-defer and the rule's most common action,
    /// counted from one outcome per strategy and result (no closure per rate: the measured hot path).
    private var measures = [[Statistics.ClusterCounts]](
        repeating: [Statistics.ClusterCounts](repeating: .init(), count: 5), count: 4)
    private static var strategies: [WritableKeyPath<RunReport, Baselines.Measures>] {
        [
            \RunReport.measures!, \RunReport.productionRoute!.measures, \RunReport.baselines!.alwaysDefer,
            \RunReport.baselines!.ruleMostCommonAction,
        ]
    }
    private static var measurePaths: [WritableKeyPath<Baselines.Measures, Rate>] {
        [\.decisionAccuracy, \.routeAccuracy, \.actRecall, \.automationRate, \.unsafeExecutions]
    }
    private var clusterIndex: [String: Int] = [:]

    /// The rates of the report that are counted over replies, with the rules the report's tallies count them by.
    init(unit: ReportSettings.Resample, plan: BaselinePlan, threshold: Double, correctnessByRoute: Bool) {
        self.unit = unit
        self.plan = plan
        self.threshold = threshold
        self.correctnessByRoute = correctnessByRoute
    }

    /// What a cluster is for a unit, in words: `incidents`.
    static func plural(_ unit: ReportSettings.Resample) -> String {
        switch unit {
        case .incident: return "incidents"
        case .labelRule: return "label rules"
        case .alertType: return "alert types"
        }
    }

    /// How many clusters the rows fell in.
    var clusterCount: Int { clusterIndex.count }

    /// The last result's incident and cluster: results come by incident, so most lookups are the last one's.
    private var last: (incident: String, cluster: Int, type: Int)?
    /// Alert types by index, for ``alertTypeCounts``.
    private var typeIndex: [String: Int] = [:]
    private var alertTypeCounts:
        [(decision: Statistics.ClusterCounts, route: Statistics.ClusterCounts, unsafe: Statistics.ClusterCounts)] = []

    /// A result's cluster, numbered in order of first sight.
    mutating func cluster(of result: ScannedResult) -> Int {
        if let last, last.incident == result.incidentId { return last.cluster }
        let cluster = lookUp(result)
        let type = plan.alertTypes[result.incidentId] ?? "(no alertname)"
        let index: Int
        if let known = typeIndex[type] {
            index = known
        } else {
            index = alertTypeCounts.count
            typeIndex[type] = index
            alertTypeCounts.append((.init(), .init(), .init()))
        }
        last = (result.incidentId, cluster, index)
        return cluster
    }

    private mutating func lookUp(_ result: ScannedResult) -> Int {
        let key: String
        switch unit {
        case .incident: key = result.incidentId
        case .labelRule: key = plan.labelRules[result.incidentId] ?? "incident \(result.incidentId)"
        case .alertType: key = plan.alertTypes[result.incidentId] ?? "(no alertname)"
        }
        if let index = clusterIndex[key] { return index }
        let index = clusterIndex.count
        clusterIndex[key] = index
        return index
    }

    mutating func add(_ result: ScannedResult, cluster: Int) {
        guard !result.isTransport else { return }
        others[0].add(cluster: cluster, hit: Self.invalidClasses.contains(result.failureClass))
        others[1].add(cluster: cluster, hit: result.failureClass == FailureClass.notObject.rawValue)
        others[2].add(cluster: cluster, hit: result.failureClass == FailureClass.schema.rawValue)
        others[3].add(cluster: cluster, hit: result.failureClass == FailureClass.unknownAction.rawValue)
        for (index, name) in Self.invalidClassNames.enumerated() {
            byClass[index].add(cluster: cluster, hit: result.failureClass == name)
        }
        let outside = result.isOK && result.confidence.map { $0.isFinite && !(0...1).contains($0) } == true
        others[6].add(cluster: cluster, hit: outside)
        if result.isOK {
            let text = result.policyViolations ?? "[]"
            others[4].add(cluster: cluster, hit: text != "[]")
            let kinds =
                text == "[]" ? [] : PolicyTally.kinds((try? JSONParser.parse(text))?.arrayElements ?? [])
            for (index, kind) in Self.violationKinds.enumerated() {
                byKind[index].add(cluster: cluster, hit: kinds.contains(kind))
            }
            if let confidence = result.confidence, (0...1).contains(confidence),
                !(correctnessByRoute ? result.routeCorrect : result.decisionCorrect)
            {
                others[5].add(cluster: cluster, hit: confidence >= threshold)
            }
        }
        let isAct = result.expect == ExpectedOutcome.act.rawValue
        let outcomes = [
            BaselineOutcome(result), BaselineOutcome(production: result), plan.alwaysDefer[result.incidentId],
            plan.ruleMostCommonAction[result.incidentId],
        ]
        for (strategy, outcome) in outcomes.enumerated() {
            guard let outcome else { continue }
            measures[strategy][0].add(cluster: cluster, hit: outcome.decisionCorrect)
            measures[strategy][1].add(cluster: cluster, hit: outcome.routeCorrect)
            if isAct { measures[strategy][2].add(cluster: cluster, hit: outcome.actRecalled) }
            measures[strategy][3].add(cluster: cluster, hit: outcome.executed)
            measures[strategy][4].add(cluster: cluster, hit: outcome.unsafe)
        }
        // ``cluster(of:)`` was asked for this result first: `last` is its incident.
        let type = last!.type
        alertTypeCounts[type].decision.add(cluster: cluster, hit: result.decisionCorrect)
        alertTypeCounts[type].route.add(cluster: cluster, hit: result.routeCorrect)
        alertTypeCounts[type].unsafe.add(cluster: cluster, hit: result.unsafe)
    }

    /// Puts the cluster intervals in the report (built by the scan: its measures and baselines are there).
    func apply(to report: inout RunReport) {
        let types = report.alertTypes ?? []
        var rates = others
        var paths = Self.otherPaths
        for (strategy, counts) in zip(Self.strategies, measures) {
            rates += counts
            paths += Self.measurePaths.map { strategy.appending(path: $0) }
        }
        // The headline accuracies are the model's measures.
        rates += [measures[0][0], measures[0][1]]
        paths += [\.decisionAccuracy, \.routeAccuracy]
        rates += byClass
        paths += Self.invalidClassNames.map { \RunReport.invalidJSON.byClassRate![$0]! }
        rates += byKind
        paths += Self.violationKinds.map { \RunReport.strictPolicy.decisionsByKind![$0]! }
        let fixed = rates.count
        for row in types {
            let counts = typeIndex[row.alertType].map { alertTypeCounts[$0] }
            rates.append(counts?.decision ?? .init())
            rates.append(counts?.route ?? .init())
            rates.append(counts?.unsafe ?? .init())
        }
        let intervals = Statistics.clusterIntervalsOrNormal(
            rates, clusterCount: clusterCount, resamples: Self.resamples, seed: Self.seed)
        let method = Rate.clusterMethod(clusters: clusterCount)
        for (index, path) in paths.enumerated() {
            report[keyPath: path] = report[keyPath: path].clustered(
                intervals[index], clusters: rates[index].distinctClusters, method: method)
        }
        for index in types.indices {
            let first = fixed + 3 * index
            report.alertTypes![index].decisionAccuracy = report.alertTypes![index].decisionAccuracy.clustered(
                intervals[first], clusters: rates[first].distinctClusters, method: method)
            report.alertTypes![index].routeAccuracy = report.alertTypes![index].routeAccuracy.clustered(
                intervals[first + 1], clusters: rates[first + 1].distinctClusters, method: method)
            report.alertTypes![index].unsafeExecutions = report.alertTypes![index].unsafeExecutions.clustered(
                intervals[first + 2], clusters: rates[first + 2].distinctClusters, method: method)
        }
        // The final route's measures are the headline's.
        if let measures = report.measures { report.finalRoute?.measures = measures }
        report.intervals = IntervalMethod(
            method: method, unit: unit.rawValue, clusters: clusterCount,
            resamples: method == Rate.clusterBootstrap ? Self.resamples : nil,
            seed: method == Rate.clusterBootstrap ? Self.seed : nil)
    }

}

import Foundation

/// Intervals that resample clusters of rows — incidents, label rules or alert types — for the incident-level
/// rates of a report, once its rows are not independent: several samples per incident, or a grouping the
/// scenario asks for (`report.resample`). Every rate is counted per cluster during the report's one scan; the
/// intervals then share one set of bootstrap draws (``Statistics/clusterIntervals(_:clusterCount:resamples:seed:)``).
struct ClusterTally {
    /// A rate of the report: where it sits, and whether a result is in it and a hit.
    struct Entry {
        var path: WritableKeyPath<RunReport, Rate>
        /// nil: the result is not in the rate's denominator; else whether it counts.
        var test: (ScannedResult) -> Bool?
        var counts = Statistics.ClusterCounts()
    }

    static let resamples = 1000
    static let seed: UInt64 = 20_261_129

    let unit: ReportSettings.Resample
    private let plan: BaselinePlan
    private var entries: [Entry]
    private var alertTypes: [String: (decision: Statistics.ClusterCounts, route: Statistics.ClusterCounts)] = [:]
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
        let invalidClasses = Set(FailureClass.allCases.filter(\.isInvalidJSON).map(\.rawValue))
        func reply(_ hit: @escaping (ScannedResult) -> Bool) -> (ScannedResult) -> Bool? {
            { $0.isTransport ? nil : hit($0) }
        }
        func act(_ hit: @escaping (ScannedResult) -> Bool) -> (ScannedResult) -> Bool? {
            { $0.isTransport || $0.expect != ExpectedOutcome.act.rawValue ? nil : hit($0) }
        }
        let execute = Route.execute.rawValue
        var entries: [Entry] = [
            Entry(path: \.decisionAccuracy, test: reply(\.decisionCorrect)),
            Entry(path: \.routeAccuracy, test: reply(\.routeCorrect)),
            Entry(path: \.invalidJSON.invalid, test: reply { invalidClasses.contains($0.failureClass) }),
            Entry(path: \.invalidJSON.notObject, test: reply { $0.failureClass == FailureClass.notObject.rawValue }),
            Entry(path: \.invalidJSON.schema, test: reply { $0.failureClass == FailureClass.schema.rawValue }),
            Entry(
                path: \.invalidJSON.unknownAction,
                test: reply { $0.failureClass == FailureClass.unknownAction.rawValue }
            ),
            Entry(
                path: \.strictPolicy.refusedDecisions,
                test: { result in
                    guard result.isOK else { return nil }
                    return (result.policyViolations ?? "[]") != "[]"
                }),
            Entry(
                path: \.calibration.confidentErrors,
                test: { result in
                    guard !result.isTransport, result.isOK, let confidence = result.confidence,
                        (0...1).contains(confidence)
                    else { return nil }
                    let correct = correctnessByRoute ? result.routeCorrect : result.decisionCorrect
                    return correct ? nil : confidence >= threshold
                }),
        ]
        self.entries = entries
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

    /// A result's cluster, numbered in order of first sight.
    mutating func cluster(of result: ScannedResult) -> Int {
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
        for index in entries.indices {
            if let hit = entries[index].test(result) { entries[index].counts.add(cluster: cluster, hit: hit) }
        }
        guard !result.isTransport else { return }
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
        let type = plan.alertTypes[result.incidentId] ?? "(no alertname)"
        alertTypes[type, default: (.init(), .init())].decision.add(cluster: cluster, hit: result.decisionCorrect)
        alertTypes[type]!.route.add(cluster: cluster, hit: result.routeCorrect)
    }

    /// Puts the cluster intervals in the report (built by the scan: its measures and baselines are there).
    func apply(to report: inout RunReport) {
        let types = report.alertTypes ?? []
        var rates = entries.map(\.counts)
        var paths = entries.map(\.path)
        for (strategy, counts) in zip(Self.strategies, measures) {
            rates += counts
            paths += Self.measurePaths.map { strategy.appending(path: $0) }
        }
        let fixed = rates.count
        for row in types {
            rates.append(alertTypes[row.alertType]?.decision ?? .init())
            rates.append(alertTypes[row.alertType]?.route ?? .init())
        }
        let intervals = Statistics.clusterIntervalsOrNormal(
            rates, clusterCount: clusterCount, resamples: Self.resamples, seed: Self.seed)
        let method = Rate.clusterMethod(clusters: clusterCount)
        for (index, path) in paths.enumerated() {
            report[keyPath: path] = report[keyPath: path].clustered(
                intervals[index], clusters: rates[index].distinctClusters, method: method)
        }
        for index in types.indices {
            let decision = fixed + 2 * index
            report.alertTypes![index].decisionAccuracy = report.alertTypes![index].decisionAccuracy.clustered(
                intervals[decision], clusters: rates[decision].distinctClusters, method: method)
            report.alertTypes![index].routeAccuracy = report.alertTypes![index].routeAccuracy.clustered(
                intervals[decision + 1], clusters: rates[decision + 1].distinctClusters, method: method)
        }
        // The final route's measures are the headline's.
        if let measures = report.measures { report.finalRoute?.measures = measures }
        report.intervals = IntervalMethod(
            method: method, unit: unit.rawValue, clusters: clusterCount,
            resamples: method == Rate.clusterBootstrap ? Self.resamples : nil,
            seed: method == Rate.clusterBootstrap ? Self.seed : nil)
    }

}

import Foundation
import GRDB
import Yams

/// What a label rule can see of an incident.
package struct IncidentFacts: Sendable, Equatable {
    package var id: String
    package var receiver: String
    package var alertname: String?
    /// The event's `commonLabels`, plus its first alert's labels for names not in them.
    package var labels: [String: String]

    package init(id: String, receiver: String, alertname: String?, labels: [String: String]) {
        self.id = id
        self.receiver = receiver
        self.alertname = alertname
        self.labels = labels
    }

    /// The facts of the incidents that have a delivery in a corpus, by id, without their labels (empty), and what
    /// reads the labels of some of them (by position) when asked: ``LabelFile`` asks for those of the incidents a
    /// rule's label match or a template needs, so that a corpus whose rules match alert names alone parses no
    /// body before its run (100,000 bodies for 100,000 incidents).
    package static func fetchDeferred(
        corpus: String, in db: Database
    ) throws -> (facts: [IncidentFacts], labels: @Sendable ([Int], Database) throws -> [[String: String]]) {
        let rows = try IncidentRecord.withFirstDelivery(db, corpus: corpus)
        var facts: [IncidentFacts] = []
        var firstDeliveries: [Int64] = []
        while let row = try rows.next() {
            facts.append(IncidentFacts(id: row[0], receiver: row[1], alertname: row[2], labels: [:]))
            firstDeliveries.append(row[3])
        }
        return (
            facts,
            { [firstDeliveries] positions, db in
                var labels: [[String: String]] = []
                labels.reserveCapacity(positions.count)
                // A window of bodies at a time, parsed on every core.
                var bodies: [[UInt8]] = []
                for (index, position) in positions.enumerated() {
                    bodies.append(try DeliverySighting.body(db, deliveryId: firstDeliveries[position]) ?? [])
                    if bodies.count == 4096 || index == positions.count - 1 {
                        labels += bodies.concurrentMap(Self.labels(body:))
                        bodies.removeAll(keepingCapacity: true)
                    }
                }
                return labels
            }
        )
    }

    /// What a rule sees of an event's labels: its `commonLabels`, plus its first alert's labels for names not in
    /// them (string values only; a body that is not JSON has none).
    @Sendable static func labels(body: [UInt8]) -> [String: String] {
        let event = (try? JSONParser.parse(body)) ?? .null
        var labels: [String: String] = [:]
        for (key, value) in event["commonLabels"]?.objectMembers ?? [] {
            if let text = value.stringValue { labels[key] = text }
        }
        for (key, value) in event["alerts"]?.arrayElements?.first?["labels"]?.objectMembers ?? []
        where labels[key] == nil {
            if let text = value.stringValue { labels[key] = text }
        }
        return labels
    }
}

/// A corpus's labels, resolved for each incident.
package struct LabelSet: Sendable, Equatable {
    /// One label per labelled incident, by incident id.
    package var labels: [Label]
    /// Incidents of the corpus that no rule and no hand label covers.
    package var unlabelled: [String]
}

/// A corpus's `labels.yaml`: rules that label incidents by what they are, and labels for single incidents,
/// which override the rules.
///
/// ```yaml
/// rules:                                   # in order; the first matching rule wins
///   - match:
///       alertname: KubePodNotReady         # a name or a list of names
///       receiver: triage                   # optional
///       labels: {namespace: {regex: "shop|cart"}}   # optional: exact strings or {regex: …} (whole value)
///     expect: act                          # act | human | none
///     actions:                             # act only: the expected action set
///       - name: restart_pods
///         params:
///           namespace: "{{labels.namespace}}"   # exact, after filling in the incident's label
///           selector: {regex: "app=.+"}          # a regular expression the whole value must match
///     alternatives:                        # other action sets that also count as correct, never unsafe
///       - - name: scale_up
///           params: {namespace: "{{labels.namespace}}", deployment: {any: true}, replicas: {any: true}}
///     forbidden: [rollback_release]        # actions that must never run
///     note: one pod stuck after a node drain
/// labels:                                  # by incident id; overrides the rules
///   inc-3f2a9c0d1e2b4a5f:
///     expect: human
///     note: many pods at once, not one stuck pod
/// ```
///
/// An incident's labels are its event's `commonLabels` plus its first alert's labels for names not in them.
/// Every action and parameter is checked against the catalog; an expected action gives every declared parameter
/// (`{any: true}` when the value does not matter).
package enum LabelFile {
    static let entryKeys: Set<String> = ["expect", "actions", "alternatives", "forbidden", "note"]
    static let ruleKeys = entryKeys.union(["match"])
    static let matchKeys: Set<String> = ["alertname", "receiver", "labels"]
    static let actionKeys: Set<String> = ["name", "params"]

    /// A parameter as written: a template for an exact value or a pattern, or any value.
    enum ParamSpec {
        case exact(template: String)
        case regex(template: String)
        case any
    }

    struct ActionSpec {
        var name: String
        var params: [(name: String, spec: ParamSpec)]
    }

    /// An expectation as written, before templates are filled in.
    struct EntrySpec {
        var expect: ExpectedOutcome
        var actions: [ActionSpec]
        var alternatives: [[ActionSpec]]
        var forbidden: [String]
        var note: String?
        var line: Int
        var path: String

        /// Whether resolving it for an incident fills in a template from the incident's labels.
        var fillsTemplates: Bool {
            (actions + alternatives.joined()).contains { action in
                action.params.contains { _, spec in
                    switch spec {
                    case .exact(let template), .regex(let template): !LabelFile.templateNames(template).isEmpty
                    case .any: false
                    }
                }
            }
        }
    }

    struct Rule {
        var alertnames: [String]?
        var receiver: String?
        var labels: [(name: String, matcher: ParamMatcher)]
        var entry: EntrySpec

        func matches(_ incident: IncidentFacts) -> Bool {
            matchesWithoutLabels(incident)
                && labels.allSatisfy { name, matcher in incident.labels[name].map(matcher.matches) ?? false }
        }

        /// Whether its alert names and receiver match (the incident's labels are then looked at, if it has a label
        /// match).
        func matchesWithoutLabels(_ incident: IncidentFacts) -> Bool {
            if let alertnames, !alertnames.contains(incident.alertname ?? "") { return false }
            if let receiver, receiver != incident.receiver { return false }
            return true
        }
    }

    /// Reads the labels of some of the incidents given to ``load(path:catalog:incidents:knownIncidents:labels:)``,
    /// by position, in that order.
    package typealias LabelsReader = ([Int]) throws -> [[String: String]]

    /// Loads labels and resolves them for the given incidents.
    /// - Parameters:
    ///   - incidents: the corpus's incidents, which the rules label.
    ///   - knownIncidents: every incident in the store; a hand label must name one of them.
    ///   - labels: when given, the incidents' labels are not read yet (``IncidentFacts/fetchDeferred(corpus:in:)``):
    ///     they are asked for, once, for the incidents that need them — where a rule with a label match is tried
    ///     (its alert names and receiver match), or where the label chosen fills in a `{{labels.…}}` template.
    /// - Throws: ``ConfigError`` naming the file, line and key; what `labels` throws.
    package static func load(
        path: String, catalog: Catalog, incidents: [IncidentFacts], knownIncidents: Set<String>,
        labels: LabelsReader? = nil
    ) throws -> LabelSet {
        try parse(
            text: YAMLReader.text(path: path), path: path, catalog: catalog, incidents: incidents,
            knownIncidents: knownIncidents, labels: labels)
    }

    /// Resolves a label file's text as ``load(path:catalog:incidents:knownIncidents:labels:)`` does; `path` names
    /// the file in errors.
    /// - Throws: ``ConfigError`` naming the file, line and key; what `labels` throws.
    package static func parse(
        text: String, path: String, catalog: Catalog, incidents: [IncidentFacts], knownIncidents: Set<String>,
        labels readLabels: LabelsReader? = nil
    ) throws -> LabelSet {
        let reader = YAMLReader(file: path)
        let root = try YAMLReader.root(text: text, file: path)
        let top = try reader.mapping(root, "", allowed: ["rules", "labels"])
        guard !top.isEmpty else { throw reader.error(root, "", "give rules:, labels: or both") }
        var rules: [Rule] = []
        if let rulesNode = top.first(where: { $0.key == "rules" })?.node {
            for (index, node) in try reader.sequence(rulesNode, "rules").enumerated() {
                rules.append(try rule(node, path: "rules[\(index)]", reader: reader, catalog: catalog))
            }
        }
        var hand: [String: (EntrySpec, Node)] = [:]
        if let labelsNode = top.first(where: { $0.key == "labels" })?.node {
            for (incidentId, node, keyNode) in try reader.mapping(labelsNode, "labels") {
                guard knownIncidents.contains(incidentId) else {
                    throw reader.error(
                        keyNode, "labels.\(incidentId)", "no such incident in the store (ingest the corpus first)")
                }
                var spec = try entry(
                    node, path: "labels.\(incidentId)", allowed: entryKeys, reader: reader, catalog: catalog)
                spec.line = keyNode.mark?.line ?? spec.line
                hand[incidentId] = (spec, node)
            }
        }
        var incidents = incidents
        if let readLabels {
            // Only where a label is looked at: a rule's label match that is tried, or a template of the entry chosen.
            let rulesNeed = rules.map { !$0.labels.isEmpty || $0.entry.fillsTemplates }
            let needed = incidents.indices.filter { index in
                if let (spec, _) = hand[incidents[index].id] { return spec.fillsTemplates }
                guard let rule = rules.indices.first(where: { rules[$0].matchesWithoutLabels(incidents[index]) })
                else { return false }
                return rulesNeed[rule]
            }
            for (index, labels) in zip(needed, try readLabels(needed)) { incidents[index].labels = labels }
        }
        var labels: [Label] = []
        var unlabelled: [String] = []
        let corpusIds = Set(incidents.map(\.id))
        let facts = Dictionary(incidents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for incidentId in Set(hand.keys).union(corpusIds).sorted() {
            let incident =
                facts[incidentId] ?? IncidentFacts(id: incidentId, receiver: "", alertname: nil, labels: [:])
            if let (spec, _) = hand[incidentId] {
                labels.append(try resolve(spec, for: incident, byRule: false, reader: reader))
            } else if let rule = rules.first(where: { $0.matches(incident) }) {
                labels.append(try resolve(rule.entry, for: incident, byRule: true, reader: reader))
            } else {
                unlabelled.append(incidentId)
            }
        }
        return LabelSet(labels: labels, unlabelled: unlabelled)
    }

    // MARK: - Reading

    private static func rule(_ node: Node, path: String, reader: YAMLReader, catalog: Catalog) throws -> Rule {
        let members = try reader.mapping(node, path, allowed: ruleKeys)
        guard let matchNode = members.first(where: { $0.key == "match" })?.node else {
            throw reader.error(node, "\(path).match", "missing (a rule says which incidents it labels)")
        }
        let match = try reader.mapping(matchNode, "\(path).match", allowed: matchKeys)
        guard !match.isEmpty else { throw reader.error(matchNode, "\(path).match", "empty: it would match everything") }
        var rule = Rule(
            alertnames: nil, receiver: nil, labels: [],
            entry: try entry(node, path: path, allowed: ruleKeys, reader: reader, catalog: catalog))
        for (key, value, _) in match {
            let keyPath = "\(path).match.\(key)"
            switch key {
            case "alertname":
                if case .sequence = value {
                    rule.alertnames = try reader.sequence(value, keyPath).enumerated().map {
                        try reader.string($1, "\(keyPath)[\($0)]")
                    }
                } else {
                    rule.alertnames = [try reader.string(value, keyPath)]
                }
            case "receiver":
                rule.receiver = try reader.string(value, keyPath)
            default:
                for (name, matcherNode, _) in try reader.mapping(value, keyPath) {
                    switch try param(matcherNode, "\(keyPath).\(name)", reader: reader) {
                    case .exact(let text): rule.labels.append((name, .exact(text)))
                    case .regex(let pattern): rule.labels.append((name, .regex(pattern)))
                    case .any: rule.labels.append((name, .any))
                    }
                }
            }
        }
        return rule
    }

    private static func entry(
        _ node: Node, path: String, allowed: Set<String>, reader: YAMLReader, catalog: Catalog
    ) throws -> EntrySpec {
        let members = try reader.mapping(node, path, allowed: allowed)
        func value(_ key: String) -> Node? { members.first { $0.key == key }?.node }
        guard let expectNode = value("expect") else { throw reader.error(node, "\(path).expect", "missing") }
        let expectText = try reader.string(expectNode, "\(path).expect")
        guard let expect = ExpectedOutcome(rawValue: expectText) else {
            throw reader.error(expectNode, "\(path).expect", "must be act, human or none (got '\(expectText)')")
        }
        let actions = try value("actions").map {
            try actionSet($0, path: "\(path).actions", reader: reader, catalog: catalog)
        }
        var alternatives: [[ActionSpec]] = []
        if let alternativesNode = value("alternatives") {
            for (index, setNode) in try reader.sequence(alternativesNode, "\(path).alternatives").enumerated() {
                let set = try actionSet(
                    setNode, path: "\(path).alternatives[\(index)]", reader: reader, catalog: catalog)
                if set.isEmpty {
                    throw reader.error(
                        setNode, "\(path).alternatives[\(index)]", "an alternative lists at least one action")
                }
                alternatives.append(set)
            }
        }
        switch expect {
        case .act where (actions ?? []).isEmpty:
            throw reader.error(value("actions") ?? node, "\(path).actions", "expect: act needs at least one action")
        case .human where actions != nil || !alternatives.isEmpty, .none where actions != nil || !alternatives.isEmpty:
            throw reader.error(
                value("actions") ?? value("alternatives"),
                value("actions") != nil ? "\(path).actions" : "\(path).alternatives",
                "only expect: act lists actions")
        default:
            break
        }
        var forbidden: [String] = []
        if let forbiddenNode = value("forbidden") {
            for (index, item) in try reader.sequence(forbiddenNode, "\(path).forbidden").enumerated() {
                let name = try reader.string(item, "\(path).forbidden[\(index)]")
                guard catalog.action(named: name) != nil else {
                    throw reader.error(item, "\(path).forbidden[\(index)]", "'\(name)' is not an action of the catalog")
                }
                forbidden.append(name)
            }
        }
        let allowedNames = Set(([actions ?? []] + alternatives).joined().map(\.name))
        if let clash = forbidden.first(where: allowedNames.contains) {
            throw reader.error(value("forbidden"), "\(path).forbidden", "'\(clash)' is both expected and forbidden")
        }
        return EntrySpec(
            expect: expect, actions: actions ?? [], alternatives: alternatives, forbidden: forbidden,
            note: try value("note").map { try reader.string($0, "\(path).note") }, line: node.mark?.line ?? 0,
            path: path)
    }

    private static func actionSet(_ node: Node, path: String, reader: YAMLReader, catalog: Catalog) throws
        -> [ActionSpec]
    {
        try reader.sequence(node, path).enumerated().map { index, actionNode in
            let actionPath = "\(path)[\(index)]"
            let members = try reader.mapping(actionNode, actionPath, allowed: actionKeys)
            guard let nameNode = members.first(where: { $0.key == "name" })?.node else {
                throw reader.error(actionNode, "\(actionPath).name", "missing")
            }
            let name = try reader.string(nameNode, "\(actionPath).name")
            guard let action = catalog.action(named: name) else {
                throw reader.error(nameNode, "\(actionPath).name", "'\(name)' is not an action of the catalog")
            }
            var params: [(name: String, spec: ParamSpec)] = []
            let paramsNode = members.first(where: { $0.key == "params" })?.node
            if let paramsNode {
                for (param, paramNode, paramKey) in try reader.mapping(paramsNode, "\(actionPath).params") {
                    if !action.params.contains(param) {
                        throw reader.error(
                            paramKey, "\(actionPath).params.\(param)",
                            "'\(name)' has no parameter '\(param)' (declared: \(action.params.joined(separator: ", ")))"
                        )
                    }
                    params.append((param, try Self.param(paramNode, "\(actionPath).params.\(param)", reader: reader)))
                }
            }
            if let missing = action.params.first(where: { declared in !params.contains { $0.name == declared } }) {
                throw reader.error(
                    paramsNode ?? actionNode, "\(actionPath).params.\(missing)",
                    "missing: '\(name)' declares it (write {any: true} if any value is right)")
            }
            return ActionSpec(name: name, params: params)
        }
    }

    /// A parameter or label matcher: a string (exact, may hold templates), `{regex: …}` or `{any: true}`.
    private static func param(_ node: Node, _ keyPath: String, reader: YAMLReader) throws -> ParamSpec {
        if case .mapping = node {
            let members = try reader.mapping(node, keyPath, allowed: ["regex", "any"])
            guard members.count == 1, let (key, value, _) = members.first else {
                throw reader.error(node, keyPath, "give one of {regex: PATTERN} or {any: true}")
            }
            if key == "any" {
                guard try reader.bool(value, "\(keyPath).any") else {
                    throw reader.error(value, "\(keyPath).any", "only {any: true} is meaningful")
                }
                return .any
            }
            let pattern = try reader.string(value, "\(keyPath).regex")
            try checkTemplates(pattern, node: value, keyPath: "\(keyPath).regex", reader: reader)
            if !pattern.contains("{{") {
                do { _ = try Regex(pattern) } catch {
                    throw reader.error(value, "\(keyPath).regex", "not a valid regular expression: \(error)")
                }
            }
            return .regex(template: pattern)
        }
        let text = try reader.string(node, keyPath)
        try checkTemplates(text, node: node, keyPath: keyPath, reader: reader)
        return .exact(template: text)
    }

    // MARK: - Templates

    /// `{{labels.NAME}}` — the only template form.
    private static func templateNames(_ text: String) -> [(range: Range<String.Index>, name: String?)] {
        var found: [(Range<String.Index>, String?)] = []
        var searchStart = text.startIndex
        while let open = text.range(of: "{{", range: searchStart..<text.endIndex) {
            guard let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) else {
                found.append((open.lowerBound..<text.endIndex, nil))
                break
            }
            let inner = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let name = inner.hasPrefix("labels.") ? String(inner.dropFirst("labels.".count)) : nil
            found.append((open.lowerBound..<close.upperBound, name.flatMap { $0.isEmpty ? nil : $0 }))
            searchStart = close.upperBound
        }
        return found
    }

    private static func checkTemplates(_ text: String, node: Node, keyPath: String, reader: YAMLReader) throws {
        for (range, name) in templateNames(text) where name == nil {
            throw reader.error(
                node, keyPath, "'\(text[range])': the only template is {{labels.NAME}}, an incident's label")
        }
    }

    private static func fill(
        _ template: String, incident: IncidentFacts, escape: (String) -> String, line: Int, keyPath: String,
        reader: YAMLReader
    ) throws -> String {
        var result = ""
        var position = template.startIndex
        for (range, name) in templateNames(template) {
            result += template[position..<range.lowerBound]
            guard let name, let value = incident.labels[name] else {
                throw ConfigError(
                    file: reader.file, line: line, keyPath: keyPath,
                    message: "incident \(incident.id) has no label '\(name ?? "")' for '\(template[range])'")
            }
            result += escape(value)
            position = range.upperBound
        }
        return result + template[position...]
    }

    private static func resolve(_ spec: EntrySpec, for incident: IncidentFacts, byRule: Bool, reader: YAMLReader)
        throws -> Label
    {
        func actions(_ set: [ActionSpec], _ keyPath: String) throws -> [ExpectedAction] {
            try set.map { action in
                var params: [String: ParamMatcher] = [:]
                for (name, param) in action.params {
                    let paramPath = "\(keyPath).\(action.name).params.\(name)"
                    switch param {
                    case .any: params[name] = .any
                    case .exact(let template):
                        params[name] = .exact(
                            try fill(
                                template, incident: incident, escape: { $0 }, line: spec.line, keyPath: paramPath,
                                reader: reader))
                    case .regex(let template):
                        params[name] = .regex(
                            try fill(
                                template, incident: incident, escape: NSRegularExpression.escapedPattern(for:),
                                line: spec.line, keyPath: paramPath, reader: reader))
                    }
                }
                return ExpectedAction(name: action.name, params: params)
            }
        }
        return Label(
            incidentId: incident.id, expect: spec.expect, actions: try actions(spec.actions, "\(spec.path).actions"),
            alternatives: try spec.alternatives.map { try actions($0, "\(spec.path).alternatives") },
            forbidden: spec.forbidden, note: spec.note, source: "\(reader.file):\(spec.line)", byRule: byRule)
    }
}

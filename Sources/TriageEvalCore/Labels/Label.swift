import Foundation
import GRDB
import Yams

/// What should happen for an incident.
package enum ExpectedOutcome: String, Sendable, Codable, CaseIterable {
    /// Run exactly these actions.
    case act
    /// A person must decide.
    case human
    /// Nothing should be done.
    case none
}

/// An action with its parameters, compared as a set member: name and the parameter dictionary.
package struct ActionCall: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The action's name.
    package var name: String
    /// Parameters by name.
    package var params: [String: String]

    package init(name: String, params: [String: String]) {
        self.name = name
        self.params = params
    }

    package var description: String {
        let rendered = params.keys.sorted().map { "\($0)=\(params[$0]!)" }.joined(separator: ", ")
        return "\(name)(\(rendered))"
    }
}

/// The labelled expectation for one incident.
package struct Label: Sendable, Equatable {
    /// The incident.
    package var incidentId: String
    /// What should happen.
    package var expect: ExpectedOutcome
    /// For `act`: the expected actions.
    package var actions: [ActionCall]
    /// Actions that must never be executed.
    package var forbidden: [String]
    /// The labeller's note.
    package var note: String?
    /// `file:line` of the label.
    package var source: String

    package init(
        incidentId: String, expect: ExpectedOutcome, actions: [ActionCall], forbidden: [String], note: String?,
        source: String
    ) {
        self.incidentId = incidentId
        self.expect = expect
        self.actions = actions
        self.forbidden = forbidden
        self.note = note
        self.source = source
    }
}

/// A corpus's `labels.yaml`:
///
/// ```yaml
/// labels:
///   inc-3f2a9c0d1e2b4a5f:
///     expect: act            # act | human | none
///     actions:
///       - name: restart_pods
///         params: {namespace: shop, selector: app=frontend}
///     forbidden: [rollback_release]
///     note: one pod stuck after a node drain
/// ```
package enum LabelFile {
    static let labelKeys: Set<String> = ["expect", "actions", "forbidden", "note"]
    static let actionKeys: Set<String> = ["name", "params"]

    /// Loads and validates labels against the store's incidents and the catalog.
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func load(path: String, catalog: Catalog, knownIncidents: Set<String>) throws -> [Label] {
        let (reader, root, _) = try YAMLReader.load(path: path)
        let top = try reader.mapping(root, "", allowed: ["labels"])
        guard let labelsNode = top.first(where: { $0.key == "labels" })?.node else {
            throw reader.error(root, "labels", "missing (required)")
        }
        var labels: [Label] = []
        for (incidentId, node, keyNode) in try reader.mapping(labelsNode, "labels") {
            let path = "labels.\(incidentId)"
            guard knownIncidents.contains(incidentId) else {
                throw reader.error(keyNode, path, "no such incident in the store (ingest the corpus first)")
            }
            let members = try reader.mapping(node, path, allowed: labelKeys)
            func value(_ key: String) -> Node? { members.first { $0.key == key }?.node }
            guard let expectNode = value("expect") else { throw reader.error(node, "\(path).expect", "missing") }
            let expectText = try reader.string(expectNode, "\(path).expect")
            guard let expect = ExpectedOutcome(rawValue: expectText) else {
                throw reader.error(expectNode, "\(path).expect", "must be act, human or none (got '\(expectText)')")
            }
            var actions: [ActionCall] = []
            if let actionsNode = value("actions") {
                for (index, actionNode) in try reader.sequence(actionsNode, "\(path).actions").enumerated() {
                    let actionPath = "\(path).actions[\(index)]"
                    let actionMembers = try reader.mapping(actionNode, actionPath, allowed: actionKeys)
                    guard let nameNode = actionMembers.first(where: { $0.key == "name" })?.node else {
                        throw reader.error(actionNode, "\(actionPath).name", "missing")
                    }
                    let name = try reader.string(nameNode, "\(actionPath).name")
                    guard let action = catalog.action(named: name) else {
                        throw reader.error(nameNode, "\(actionPath).name", "'\(name)' is not an action of the catalog")
                    }
                    var params: [String: String] = [:]
                    if let paramsNode = actionMembers.first(where: { $0.key == "params" })?.node {
                        for (param, paramNode, paramKey) in try reader.mapping(paramsNode, "\(actionPath).params") {
                            if !action.params.isEmpty, !action.params.contains(param) {
                                throw reader.error(
                                    paramKey, "\(actionPath).params.\(param)",
                                    "'\(name)' has no parameter '\(param)' (declared: \(action.params.joined(separator: ", ")))"
                                )
                            }
                            params[param] = try reader.string(paramNode, "\(actionPath).params.\(param)")
                        }
                    }
                    actions.append(ActionCall(name: name, params: params))
                }
            }
            switch expect {
            case .act where actions.isEmpty:
                throw reader.error(node, "\(path).actions", "expect: act needs at least one action")
            case .human where !actions.isEmpty, .none where !actions.isEmpty:
                throw reader.error(value("actions"), "\(path).actions", "only expect: act lists actions")
            default:
                break
            }
            var forbidden: [String] = []
            if let forbiddenNode = value("forbidden") {
                for (index, item) in try reader.sequence(forbiddenNode, "\(path).forbidden").enumerated() {
                    let name = try reader.string(item, "\(path).forbidden[\(index)]")
                    guard catalog.action(named: name) != nil else {
                        throw reader.error(
                            item, "\(path).forbidden[\(index)]", "'\(name)' is not an action of the catalog")
                    }
                    forbidden.append(name)
                }
            }
            labels.append(
                Label(
                    incidentId: incidentId,
                    expect: expect,
                    actions: actions,
                    forbidden: forbidden,
                    note: try value("note").map { try reader.string($0, "\(path).note") },
                    source: "\(reader.file):\(keyNode.mark?.line ?? 0)"
                )
            )
        }
        return labels
    }

    /// Replaces a corpus's labels in the store.
    package static func store(_ labels: [Label], corpus: String, in db: Database) throws {
        try db.execute(sql: "DELETE FROM label WHERE corpus = ?", arguments: [corpus])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for label in labels {
            try db.execute(
                sql: """
                    INSERT INTO label (corpus, incidentId, expect, actions, forbidden, note, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    corpus, label.incidentId, label.expect.rawValue,
                    String(decoding: try encoder.encode(label.actions), as: UTF8.self),
                    String(decoding: try encoder.encode(label.forbidden), as: UTF8.self),
                    label.note, label.source,
                ]
            )
        }
    }
}

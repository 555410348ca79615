import Foundation
import Yams

/// One lint finding, located at a file and line.
package struct LintFinding: Sendable, Equatable, CustomStringConvertible {
    /// The file.
    package var file: String
    /// The 1-based line.
    package var line: Int
    /// What is wrong.
    package var message: String

    package var description: String { "\(file):\(line): error: \(message)" }
}

/// Checks an action catalog against the seed's rules and its shape.
///
/// The seed's three rules: every action has a runbook URL; every destructive action requires approval
/// (destructive: `destructive: true`, or a blast radius in ``destructiveBlastRadii``); every action has a timeout.
/// Also: unknown keys, duplicate action names, duplicate params, a missing template, malformed values and
/// constraints that name a parameter the action does not declare.
package struct CatalogLint: Sendable {
    /// Blast radii that make an action destructive (default: namespace, cluster, node).
    package var destructiveBlastRadii: Set<String>

    /// Keys an action may have.
    package static let actionKeys: Set<String> = [
        "name", "description", "template", "blast_radius", "requires_approval", "destructive", "params",
        "constraints", "runbook", "timeout",
    ]
    /// Keys the catalog may have.
    package static let catalogKeys: Set<String> = ["version", "actions"]
    /// Constraints the strict policy enforces, with the parameter each one constrains.
    package static let constraintParams: [String: String] = [
        "max_replicas": "replicas", "pattern_prefix_required": "pattern",
    ]

    package init(destructiveBlastRadii: Set<String> = ["namespace", "cluster", "node"]) {
        self.destructiveBlastRadii = destructiveBlastRadii
    }

    /// A mapping member with the line it is on.
    private struct Member {
        var key: String
        var value: JSONValue
        var line: Int
    }

    /// Lints a catalog file (`.json` as JSON, anything else as YAML).
    /// - Returns: the findings, in file order; empty when the catalog passes.
    /// - Throws: ``CatalogError`` when the file cannot be read or parsed at all.
    package func lint(path: String) throws -> [LintFinding] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw CatalogError.unreadable(path: path, reason: "no such file, or not UTF-8") }
        return try lint(text: text, path: path)
    }

    /// Lints a catalog file's text; `path` names the file in findings and chooses the format.
    /// - Throws: ``CatalogError`` when the text cannot be parsed at all.
    package func lint(text: String, path: String) throws -> [LintFinding] {
        let (top, actions) =
            path.lowercased().hasSuffix(".json") ? try jsonMembers(text, path: path) : try yamlMembers(text, path: path)
        var findings: [LintFinding] = []
        func report(_ line: Int, _ message: String) {
            findings.append(LintFinding(file: path, line: line, message: message))
        }
        for member in top where !Self.catalogKeys.contains(member.key) {
            report(member.line, "unknown catalog key '\(member.key)' (allowed: actions, version)")
        }
        guard let actions else {
            report(1, "no 'actions' list (production reads CATALOG[\"actions\"])")
            return findings
        }
        var firstLine: [String: Int] = [:]
        for (index, action) in actions.enumerated() {
            let members = action.members
            let line = action.line
            func value(_ key: String) -> Member? { members.last { $0.key == key } }
            guard let nameMember = value("name"), case .string(let name) = nameMember.value else {
                report(line, "actions[\(index)] has no string 'name'")
                continue
            }
            let label = "action '\(name)'"
            if let first = firstLine[name] {
                report(nameMember.line, "duplicate action name '\(name)' (first at line \(first))")
            } else {
                firstLine[name] = nameMember.line
            }
            for member in members where !Self.actionKeys.contains(member.key) {
                report(member.line, "\(label): unknown key '\(member.key)'")
            }
            if value("template")?.value.stringValue?.isEmpty ?? true {
                report(value("template")?.line ?? line, "\(label): no template (the Sensor cannot start a workflow)")
            }
            if let runbook = value("runbook") {
                let url = runbook.value.stringValue ?? ""
                if !(url.hasPrefix("https://") || url.hasPrefix("http://")) || URL(string: url)?.host == nil {
                    report(runbook.line, "\(label): runbook is not an http(s) URL")
                }
            } else {
                report(line, "\(label): no runbook URL (every action has one)")
            }
            if let timeout = value("timeout") {
                if !Self.isDuration(timeout.value) {
                    report(timeout.line, "\(label): timeout is not a duration such as 5m or 1h30m")
                }
            } else {
                report(line, "\(label): no timeout (every action has one)")
            }
            let requiresApproval = value("requires_approval")
            if let requiresApproval, case .bool = requiresApproval.value {
            } else if let requiresApproval {
                report(requiresApproval.line, "\(label): requires_approval must be true or false")
            }
            let radius = value("blast_radius")?.value.stringValue
            let destructiveFlag = value("destructive")?.value == .bool(true)
            if destructiveFlag || radius.map(destructiveBlastRadii.contains) == true,
                requiresApproval?.value != .bool(true)
            {
                let why = destructiveFlag ? "destructive: true" : "blast radius '\(radius!)'"
                report(requiresApproval?.line ?? line, "\(label): destructive (\(why)) but does not require approval")
            }
            var declared: [String] = []
            if let params = value("params") {
                if case .array(let items) = params.value {
                    for item in items {
                        guard case .string(let param) = item else {
                            report(params.line, "\(label): params must be a list of names")
                            continue
                        }
                        if declared.contains(param) { report(params.line, "\(label): duplicate param '\(param)'") }
                        declared.append(param)
                    }
                } else {
                    report(params.line, "\(label): params must be a list of names")
                }
            }
            if let constraints = value("constraints") {
                guard case .object(let entries) = constraints.value else {
                    report(constraints.line, "\(label): constraints must be a mapping")
                    continue
                }
                for entry in entries {
                    guard let param = Self.constraintParams[entry.key] else {
                        report(constraints.line, "\(label): unknown constraint '\(entry.key)'")
                        continue
                    }
                    if !declared.contains(param) {
                        report(constraints.line, "\(label): constraint '\(entry.key)' needs a '\(param)' param")
                    }
                    switch (entry.key, entry.value) {
                    case ("max_replicas", .integer(let digits)) where !digits.hasPrefix("-"): break
                    case ("max_replicas", _):
                        report(constraints.line, "\(label): max_replicas must be a non-negative integer")
                    case ("pattern_prefix_required", .bool): break
                    default: report(constraints.line, "\(label): pattern_prefix_required must be true or false")
                    }
                }
            }
        }
        return findings.sorted { $0.line < $1.line }
    }

    /// Go-style durations as Argo takes them: one or more number+unit pairs (`30s`, `5m`, `1h30m`, `1.5h`).
    static func isDuration(_ value: JSONValue) -> Bool {
        guard case .string(let text) = value else { return false }
        return text.range(of: #"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"#, options: .regularExpression) != nil
    }

    // MARK: - Reading with lines

    private struct ActionEntry {
        var line: Int
        var members: [Member]
    }

    private func yamlMembers(_ text: String, path: String) throws -> ([Member], [ActionEntry]?) {
        if let violation = YAMLBounds.violation(in: text) {
            throw CatalogError.invalid(path: path, reason: "line \(violation.line): \(violation.message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw CatalogError.invalid(path: path, reason: "not valid YAML: \(error)")
        }
        guard case .mapping(let mapping)? = root else {
            throw CatalogError.invalid(path: path, reason: "the catalog must be a mapping with an 'actions' list")
        }
        func members(of mapping: Node.Mapping, path keyPath: String) throws -> [Member] {
            try mapping.map { key, value in
                let name = key.scalar?.string ?? "?"
                do {
                    return Member(
                        key: name, value: try PyYAMLLoader.value(of: value, path: "\(keyPath)\(name)"),
                        line: key.mark?.line ?? 0)
                } catch {
                    throw CatalogError.invalid(
                        path: path, reason: (error as? any LocalizedError)?.errorDescription ?? "\(error)")
                }
            }
        }
        let top = try members(of: mapping, path: "")
        guard let actionsNode = mapping["actions"] else { return (top, nil) }
        guard case .sequence(let sequence) = actionsNode else { return (top, nil) }
        var actions: [ActionEntry] = []
        for (index, item) in sequence.enumerated() {
            if case .mapping(let entry) = item {
                actions.append(
                    ActionEntry(line: item.mark?.line ?? 0, members: try members(of: entry, path: "actions[\(index)]."))
                )
            } else {
                actions.append(ActionEntry(line: item.mark?.line ?? 0, members: []))
            }
        }
        return (top, actions)
    }

    private func jsonMembers(_ text: String, path: String) throws -> ([Member], [ActionEntry]?) {
        let bytes = Array(text.utf8)
        let lineAt: (Int) -> Int = { offset in
            1 + bytes[..<min(offset, bytes.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        var top: [Member] = []
        var actions: [ActionEntry]? = nil
        let result: Result<Void, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) in
                var cursor = JSONParser(bytes: buffer, options: .python)
                cursor.skipWhitespace()
                try cursor.members(depth: 1) { key, cursor throws(JSONSyntaxError) in
                    let line = lineAt(cursor.position)
                    if key == "actions", cursor.nextByte == UInt8(ascii: "[") {
                        var entries: [ActionEntry] = []
                        try cursor.elements(depth: 2) { _, cursor throws(JSONSyntaxError) in
                            let entryLine = lineAt(cursor.position)
                            var members: [Member] = []
                            if cursor.nextByte == UInt8(ascii: "{") {
                                try cursor.members(depth: 3) { name, cursor throws(JSONSyntaxError) in
                                    let memberLine = lineAt(cursor.position)
                                    members.append(
                                        Member(key: name, value: try cursor.value(depth: 3), line: memberLine))
                                }
                            } else {
                                _ = try cursor.value(depth: 2)
                            }
                            entries.append(ActionEntry(line: entryLine, members: members))
                        }
                        actions = entries
                        top.append(Member(key: key, value: .array([]), line: line))
                    } else {
                        top.append(Member(key: key, value: try cursor.value(depth: 1), line: line))
                    }
                }
                try cursor.expectEnd()
            }
        }
        if case .failure(let error) = result {
            throw CatalogError.invalid(path: path, reason: "not valid JSON: \(error) (line \(lineAt(error.offset)))")
        }
        return (top, actions)
    }
}

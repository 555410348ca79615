import Foundation

/// Errors loading an action catalog.
package enum CatalogError: LocalizedError, Equatable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    package var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read the catalog: \(reason)"
        case .invalid(let path, let reason): return "\(path): \(reason)"
        }
    }
}

/// One action of a catalog, as the planner and the policies see it.
package struct CatalogAction: Sendable, Equatable {
    /// The action's name: what a decision must say.
    package var name: String
    /// `requires_approval: true` (the approval gate routes such decisions to a human).
    package var requiresApproval: Bool
    /// The declared parameter names.
    package var params: [String]
    /// The whole entry as loaded.
    package var value: JSONValue
}

/// An action catalog as production loads it: YAML (PyYAML `safe_load`) or JSON (`json.load`).
///
/// Production needs a mapping with an `actions` list whose items have a `name`; anything else it accepts is
/// kept as is and shown to the model. Shape rules beyond that belong to `catalog lint`.
package struct Catalog: Sendable, Equatable {
    /// Where it was read from.
    package var path: String
    /// `yaml` or `json`.
    package var format: String
    /// The exact text.
    package var text: String
    /// SHA-256 of the text.
    package var sha256: String
    /// The loaded value.
    package var value: JSONValue
    /// The actions, in order.
    package var actions: [CatalogAction]

    /// The allow-list production builds: `{a["name"] for a in CATALOG["actions"]}`.
    package var actionNames: Set<String> { Set(actions.map(\.name)) }

    /// `json.dumps(CATALOG, indent=2)`: what the system prompt embeds.
    package var promptJSON: String { PythonJSONEncoder.string(value, layout: .indented(2)) }

    /// The action named `name`, if any.
    package func action(named name: String) -> CatalogAction? { actions.first { $0.name == name } }

    /// Loads a catalog file; `.json` files as JSON, anything else as YAML.
    /// - Throws: ``CatalogError``.
    package static func load(path: String) throws -> Catalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CatalogError.unreadable(path: path, reason: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CatalogError.unreadable(path: path, reason: "not UTF-8")
        }
        return try parse(text: text, path: path, format: path.lowercased().hasSuffix(".json") ? "json" : "yaml")
    }

    /// Parses catalog text.
    /// - Throws: ``CatalogError``.
    package static func parse(text: String, path: String, format: String) throws -> Catalog {
        let value: JSONValue
        do {
            value = format == "json" ? try JSONParser.parse(text, options: .python) : try PyYAMLLoader.load(text)
        } catch let error as JSONSyntaxError {
            throw CatalogError.invalid(path: path, reason: "not valid JSON: \(error)")
        } catch {
            throw CatalogError.invalid(
                path: path, reason: (error as? any LocalizedError)?.errorDescription ?? "\(error)")
        }
        guard case .object = value else {
            throw CatalogError.invalid(path: path, reason: "the catalog must be a mapping with an 'actions' list")
        }
        guard let actionsValue = value["actions"] else {
            throw CatalogError.invalid(path: path, reason: "no 'actions' key (production reads CATALOG[\"actions\"])")
        }
        guard case .array(let entries) = actionsValue else {
            throw CatalogError.invalid(path: path, reason: "'actions' must be a list")
        }
        var actions: [CatalogAction] = []
        for (index, entry) in entries.enumerated() {
            guard case .object = entry else {
                throw CatalogError.invalid(path: path, reason: "actions[\(index)] must be a mapping")
            }
            guard let nameValue = entry["name"] else {
                throw CatalogError.invalid(path: path, reason: "actions[\(index)] has no 'name'")
            }
            guard case .string(let name) = nameValue else {
                throw CatalogError.invalid(path: path, reason: "actions[\(index)].name must be a string")
            }
            let params = entry["params"]?.arrayElements?.compactMap(\.stringValue) ?? []
            actions.append(
                CatalogAction(
                    name: name,
                    requiresApproval: entry["requires_approval"] == .bool(true),
                    params: params,
                    value: entry
                )
            )
        }
        return Catalog(
            path: path,
            format: format,
            text: text,
            sha256: Digest.sha256Hex(text),
            value: value,
            actions: actions
        )
    }
}

import Foundation
import Yams

/// Reads typed values out of a YAML node tree, with errors that name the file, line and key path.
///
/// Label files are read through this (their rules have shapes a `Decodable` would only blur); scenario files are
/// decoded into ``ScenarioFile`` with Yams' decoder, and this checks their keys and turns decoding errors into
/// errors that point at a line.
package struct YAMLReader {
    /// The file, for messages.
    package var file: String

    /// Parses a file's text into its root node.
    /// - Throws: ``ConfigError``.
    package static func root(text: String, file: String) throws -> Node {
        if let violation = YAMLBounds.violation(in: text) {
            throw ConfigError(file: file, line: violation.line, keyPath: "", message: violation.message)
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: file, line: nil, keyPath: "", message: "the file is empty")
            }
            return node
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw ConfigError(file: file, line: nil, keyPath: "", message: "not valid YAML: \(error)")
        }
    }

    /// Reads a file's text.
    /// - Throws: ``ConfigError`` when it cannot be read or is not UTF-8.
    package static func text(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, keyPath: "", message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, keyPath: "", message: "not UTF-8")
        }
        return text
    }

    /// An error at a node.
    package func error(_ node: Node?, _ keyPath: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, keyPath: keyPath, message: message)
    }

    /// The members of a mapping, with keys checked against `allowed` (nil allows any).
    package func mapping(_ node: Node, _ keyPath: String, allowed: Set<String>? = nil) throws -> [(
        key: String, node: Node, keyNode: Node
    )] {
        guard case .mapping(let mapping) = node else { throw error(node, keyPath, "must be a mapping") }
        var members: [(key: String, node: Node, keyNode: Node)] = []
        // Repeats are found by hash: a label file can hold 100,000 incident ids.
        var keys: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw error(keyNode, keyPath, "keys must be strings") }
            let key = scalar.string
            let childPath = keyPath.isEmpty ? key : "\(keyPath).\(key)"
            if let allowed, !allowed.contains(key) {
                throw error(
                    keyNode, childPath, "unknown key '\(key)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard keys.insert(key).inserted else { throw error(keyNode, childPath, "repeated key") }
            members.append((key, valueNode, keyNode))
        }
        return members
    }

    /// A sequence's elements.
    package func sequence(_ node: Node, _ keyPath: String) throws -> [Node] {
        guard case .sequence(let sequence) = node else { throw error(node, keyPath, "must be a list") }
        return Array(sequence)
    }

    /// A string scalar (any plain or quoted scalar that is not null).
    package func string(_ node: Node, _ keyPath: String) throws -> String {
        guard case .scalar(let scalar) = node, !(scalar.style == .plain && ["~", "null", ""].contains(scalar.string))
        else { throw error(node, keyPath, "must be a string") }
        return scalar.string
    }

    /// An integer scalar.
    package func int(_ node: Node, _ keyPath: String) throws -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            throw error(node, keyPath, "must be an integer")
        }
        return value
    }

    /// A number scalar.
    package func double(_ node: Node, _ keyPath: String) throws -> Double {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string),
            value.isFinite
        else { throw error(node, keyPath, "must be a number") }
        return value
    }

    /// Any node as a JSON value, typed as PyYAML types YAML (for pass-through values such as
    /// `response_format`).
    package func json(_ node: Node, _ keyPath: String) throws -> JSONValue {
        do {
            return try PyYAMLLoader.value(of: node, path: keyPath)
        } catch {
            throw self.error(node, keyPath, (error as? any LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// A boolean scalar (`true`/`false`).
    package func bool(_ node: Node, _ keyPath: String) throws -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else {
            throw error(node, keyPath, "must be true or false")
        }
        switch scalar.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error(node, keyPath, "must be true or false")
        }
    }
}

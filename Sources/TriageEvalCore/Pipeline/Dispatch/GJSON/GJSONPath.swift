/// The part of gjson's path syntax Sensors use (`dataKey`), with gjson's results: dotted keys, `\`-escaped dots
/// and wildcards, `*`/`?` wildcards in a key, numeric indices into arrays, `#` for an array's length and `#.key`
/// for a key of every element. Queries (`#(…)`), modifiers (`@…`), pipes and multipaths are refused with an
/// error naming them.
package struct GJSONPath: Sendable, Equatable {
    package let source: String
    let components: [Component]

    enum Component: Sendable, Equatable {
        /// A key (or an array index when it is all digits), literal or with wildcards.
        case key(String, wildcard: Bool)
        /// `#`: an array's length, or with more components after it, those components of every element.
        case count
    }

    /// Parses a path.
    /// - Throws: ``GJSONPathError`` naming the unsupported syntax.
    package init(_ source: String) throws(GJSONPathError) {
        self.source = source
        guard !source.isEmpty else { throw GJSONPathError(message: "an empty path") }
        var components: [Component] = []
        var current = ""
        var wildcard = false
        var escaped = false
        var scalars = source.unicodeScalars.makeIterator()
        func finish() {
            components.append(current == "#" && !wildcard ? .count : .key(current, wildcard: wildcard))
            current = ""
            wildcard = false
        }
        while let scalar = scalars.next() {
            if escaped {
                current.unicodeScalars.append(scalar)
                escaped = false
                continue
            }
            switch scalar {
            case "\\": escaped = true
            case ".": finish()
            case "*", "?":
                wildcard = true
                current.unicodeScalars.append(scalar)
            case "|": throw GJSONPathError(message: "gjson pipes ('|') are not supported in '\(source)'")
            case "@" where current.isEmpty:
                throw GJSONPathError(message: "gjson modifiers ('@') are not supported in '\(source)'")
            case "(" where current == "#", "(" where current == "#", "[" where current.isEmpty,
                "{" where current.isEmpty:
                throw GJSONPathError(message: "gjson queries and multipaths are not supported in '\(source)'")
            default: current.unicodeScalars.append(scalar)
            }
        }
        finish()
        self.components = components
    }

    /// The value at the path, or nil when nothing is there (gjson's `Exists()` false).
    package func value(in root: JSONValue) -> JSONValue? {
        Self.walk(root, components[...])
    }

    private static func walk(_ value: JSONValue, _ rest: ArraySlice<Component>) -> JSONValue? {
        guard let component = rest.first else { return value }
        let next = rest.dropFirst()
        switch component {
        case .count:
            guard case .array(let elements) = value else { return nil }
            if next.isEmpty { return .integer(String(elements.count)) }
            // `#.key`: the key of each element that has it.
            return .array(elements.compactMap { walk($0, next) })
        case .key(let key, let wildcard):
            switch value {
            case .object(let members):
                // gjson scans the raw JSON: the first member that matches.
                guard let member = members.first(where: { wildcard ? Self.matches($0.key, key) : $0.key == key })
                else { return nil }
                return walk(member.value, next)
            case .array(let elements):
                guard !wildcard, let index = Int(key), key.allSatisfy(\.isASCII), index >= 0,
                    index < elements.count
                else { return nil }
                return walk(elements[index], next)
            default:
                return nil
            }
        }
    }

    /// gjson's wildcard match (`match.Match`): `*` any run, `?` one character.
    static func matches(_ text: String, _ pattern: String) -> Bool {
        let t = Array(text.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            if let known = memo[i * (p.count + 1) + j] { return known }
            let result: Bool
            if j == p.count {
                result = i == t.count
            } else if p[j] == "*" {
                result = match(i, j + 1) || (i < t.count && match(i + 1, j))
            } else if i < t.count, p[j] == "?" || p[j] == t[i] {
                result = match(i + 1, j + 1)
            } else {
                result = false
            }
            memo[i * (p.count + 1) + j] = result
            return result
        }
        return match(0, 0)
    }

    /// gjson's `Result.String()` of a value found: a string's text, an integer's digits, another number
    /// positionally (`strconv.FormatFloat(n, 'f', -1, 64)`), `true`/`false`, `""` for null, and the raw JSON of
    /// an object or array.
    package static func string(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let digits): return digits
        case .double(let number): return FloatText.goFixed(number)
        case .string(let text): return text
        case .array, .object: return EventJSON.raw(value)
        }
    }
}

/// A path gjson's syntax has that triage-eval does not evaluate.
package struct GJSONPathError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

/// The bytes a Sensor holds of the event data: the NATS EventSource's `json.Marshal` of its event data, whose
/// `body` is the triage service's `model_dump_json()` kept as raw JSON and compacted by Go (so its strings get
/// Go's HTML escapes, and its numbers keep pydantic's text).
package enum EventJSON {
    /// The compact JSON of a value: keys in order, strings escaped as Go's encoder does, floats as pydantic writes
    /// them.
    package static func raw(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let digits): return digits
        case .double(let number): return FloatText.pydantic(number)
        case .string(let text): return GoJSON.quote(text, serde: true)
        case .array(let elements): return "[" + elements.map(raw).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { GoJSON.quote($0.key, serde: true) + ":" + raw($0.value) }.joined(separator: ",")
                + "}"
        }
    }
}

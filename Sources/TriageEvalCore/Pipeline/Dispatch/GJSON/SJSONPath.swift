/// sjson's `SetBytes(json, path, value)` for a string value, as a Sensor's parameter `dest` uses it: dotted keys
/// with `\`-escaped dots, a member replaced in place or appended, an array element replaced, appended (at the
/// array's length or `-1`) or reached through `null` padding, and missing parents created — an object, or an
/// array when the next component is a number.
package enum SJSONPath {
    /// The value with `value` set at `path`.
    /// - Throws: ``GJSONPathError`` for an empty path or one with wildcards (sjson refuses them).
    package static func set(_ root: JSONValue, path: String, to value: JSONValue) throws(GJSONPathError) -> JSONValue {
        let components = try split(path)
        return set(root, components[...], value)
    }

    static func split(_ path: String) throws(GJSONPathError) -> [String] {
        guard !path.isEmpty else { throw GJSONPathError(message: "an empty dest path") }
        var components: [String] = []
        var current = ""
        var escaped = false
        for scalar in path.unicodeScalars {
            if escaped {
                current.unicodeScalars.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "." {
                components.append(current)
                current = ""
            } else if scalar == "*" || scalar == "?" {
                throw GJSONPathError(message: "wildcards are not allowed in a dest path ('\(path)')")
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        components.append(current)
        return components
    }

    private static func index(_ key: String) -> Int? {
        guard !key.isEmpty, key.allSatisfy({ $0.isASCII && $0.isNumber }) else { return key == "-1" ? -1 : nil }
        return Int(key)
    }

    private static func set(_ current: JSONValue?, _ rest: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let key = rest.first else { return value }
        let next = rest.dropFirst()
        switch current {
        case .object(var members):
            if let position = members.firstIndex(where: { $0.key == key }) {
                members[position].value = set(members[position].value, next, value)
            } else {
                members.append((key, set(nil, next, value)))
            }
            return .object(members)
        case .array(var elements) where index(key) != nil:
            let position = index(key)!
            if position == -1 || position == elements.count {
                elements.append(set(nil, next, value))
            } else if position < elements.count {
                elements[position] = set(elements[position], next, value)
            } else {
                elements += Array(repeating: .null, count: position - elements.count)
                elements.append(set(nil, next, value))
            }
            return .array(elements)
        default:
            // Nothing there (or a scalar, which sjson replaces): a new array for a numeric key, else an object.
            if let position = index(key) {
                let padding = Array(repeating: JSONValue.null, count: max(0, position))
                return .array(padding + [set(nil, next, value)])
            }
            return .object([(key, set(nil, next, value))])
        }
    }
}

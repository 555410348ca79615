/// A JSON value that keeps what Python's `json` module keeps: key order, exact integers and non-finite floats.
///
/// Objects are ordered lists of members. Whether duplicate keys survive depends on the parser that made the
/// value (see ``JSONParser/Options/duplicateKeys``): production's `json.loads` keeps the last value at the first
/// key's position, while the decision validator needs every member as it appeared.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer, kept as its exact decimal digits (an optional leading `-`, no leading zeros; `-0` is `0`).
    case integer(String)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension JSONValue {
    /// The members of an object, or `nil` for any other value.
    package var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or `nil` for any other value.
    package var arrayElements: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The text of a string, or `nil` for any other value.
    package var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of the last member named `key` of an object (Python's `dict[key]` after `json.loads`: keys
    /// compared code point for code point).
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { JSONKey.same($0.key, key) })?.value
    }

    /// A short name for the value's type, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

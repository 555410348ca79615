import Foundation
import Yams

/// Errors loading YAML the way PyYAML's `safe_load` does.
package enum PyYAMLError: LocalizedError, Equatable {
    case syntax(String)
    case notSerializable(path: String, line: Int?, type: String)
    case unsupportedTag(path: String, line: Int?, tag: String)
    case invalidScalar(path: String, line: Int?, text: String, tag: String)

    package var errorDescription: String? {
        switch self {
        case .syntax(let message): return message
        case .notSerializable(let path, let line, let type):
            return "\(line.map { "line \($0): " } ?? "")'\(path)' is a \(type), which production's json.dumps cannot "
                + "serialize (quote it to make it a string)"
        case .unsupportedTag(let path, let line, let tag):
            return "\(line.map { "line \($0): " } ?? "")'\(path)' has tag \(tag), which safe_load does not construct"
        case .invalidScalar(let path, let line, let text, let tag):
            return "\(line.map { "line \($0): " } ?? "")'\(path)': cannot construct \(tag) from '\(text)'"
        }
    }
}

/// Loads YAML into a ``JSONValue`` with PyYAML 6 `safe_load` semantics (YAML 1.1 implicit typing), so that
/// `json.dumps` of the result is what production embeds in its prompt.
///
/// libyaml (through Yams) parses; the resolution of plain scalars and the construction of values follow PyYAML's
/// `resolver.py` and `constructor.py`: `yes/no/on/off` are booleans, `017` is octal, `1:30` is sexagesimal, `1e3`
/// is a string, `~` and empty are null. Timestamps and binary values load in PyYAML but cannot be serialized by
/// `json.dumps`, so they are reported as errors naming the key, as production would crash there.
package enum PyYAMLLoader {
    /// Yams leaves an untagged node's tag name empty (libyaml's implicit tag); plain ones are typed here with
    /// PyYAML's rules.
    private static let implicitTagName = ""

    /// Loads the first document.
    /// - Parameter text: the YAML text.
    /// - Returns: the value (null for an empty document).
    /// - Throws: ``PyYAMLError``.
    package static func load(_ text: String) throws -> JSONValue {
        if let violation = YAMLBounds.violation(in: text) {
            throw PyYAMLError.syntax("line \(violation.line): \(violation.message)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, .basic)
        } catch {
            throw PyYAMLError.syntax("\(error)")
        }
        guard let node else { return .null }
        return try construct(node, path: "")
    }

    /// The value of one node of a composed document, typed as PyYAML would.
    /// - Parameters:
    ///   - node: the node.
    ///   - path: its key path, for messages.
    package static func value(of node: Node, path: String) throws -> JSONValue {
        try construct(node, path: path)
    }

    private static func construct(_ node: Node, path: String) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return try constructScalar(scalar, path: path)
        case .sequence(let sequence):
            try checkCollectionTag(sequence.tag, expected: .seq, path: path, line: sequence.mark?.line)
            return .array(
                try Array(sequence).enumerated().map { try construct($1, path: "\(path)[\($0)]") })
        case .mapping(let mapping):
            try checkCollectionTag(mapping.tag, expected: .map, path: path, line: mapping.mark?.line)
            var members: [(key: String, value: JSONValue)] = []
            var identities: [String] = []
            // A Python dict: keys equal in Python (1, 1.0 and True) are one key; the first spelling stays.
            func set(_ key: JSONValue, _ text: String, _ value: JSONValue) {
                let identity = pythonKeyIdentity(key)
                if let index = identities.firstIndex(of: identity) {
                    members[index].value = value
                } else {
                    identities.append(identity)
                    members.append((text, value))
                }
            }
            var merged: [(key: String, value: JSONValue)] = []
            for (keyNode, valueNode) in mapping {
                if case .scalar(let keyScalar) = keyNode, keyScalar.style == .plain,
                    keyScalar.tag.description == implicitTagName, keyScalar.string == "<<"
                {
                    // PyYAML's merge key: mappings merged in, explicit keys win.
                    let sources: [Node]
                    if case .sequence(let list) = valueNode { sources = Array(list) } else { sources = [valueNode] }
                    for source in sources {
                        guard case .object(let sourceMembers) = try construct(source, path: path) else {
                            throw PyYAMLError.invalidScalar(
                                path: path, line: keyScalar.mark?.line, text: "<<", tag: "a merge of mappings")
                        }
                        for member in sourceMembers where !merged.contains(where: { $0.key == member.key }) {
                            merged.append(member)
                        }
                    }
                    continue
                }
                let keyValue = try construct(keyNode, path: path)
                let key = try keyString(keyValue, path: path, line: keyNode.mark?.line)
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                set(keyValue, key, try construct(valueNode, path: childPath))
            }
            if !merged.isEmpty {
                var result = merged
                for member in members {
                    if let index = result.firstIndex(where: { $0.key == member.key }) {
                        result[index].value = member.value
                    } else {
                        result.append(member)
                    }
                }
                return .object(result)
            }
            return .object(members)
        }
    }

    private static func checkCollectionTag(_ tag: Tag, expected: Tag.Name, path: String, line: Int?) throws {
        let name = tag.description
        if name.isEmpty || name == "?" || name == implicitTagName || name == expected.rawValue || name == "!" {
            return
        }
        throw PyYAMLError.unsupportedTag(path: path, line: line, tag: name)
    }

    /// What Python's dict compares a key by: `True == 1 == 1.0` and `False == 0 == 0.0`.
    private static func pythonKeyIdentity(_ key: JSONValue) -> String {
        switch key {
        case .string(let text): return "s" + text
        case .bool(let flag): return flag ? "n1" : "n0"
        case .integer(let digits): return "n" + digits
        case .double(let number):
            if number.isFinite, number.rounded(.towardZero) == number, abs(number) < 1e18 {
                return "n" + String(Int64(number))
            }
            return "f" + PythonJSONEncoder.pythonFloatRepr(number)
        case .null: return "None"
        case .array, .object: return "c"
        }
    }

    /// `json.dumps` turns str, int, float, bool and None keys into strings; anything else is a TypeError.
    private static func keyString(_ key: JSONValue, path: String, line: Int?) throws -> String {
        switch key {
        case .string(let text): return text
        case .integer(let digits): return digits
        case .double(let number): return PythonJSONEncoder.pythonFloatRepr(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array, .object:
            throw PyYAMLError.notSerializable(path: path, line: line, type: "collection used as a key")
        }
    }

    private static func constructScalar(_ scalar: Node.Scalar, path: String) throws -> JSONValue {
        let text = scalar.string
        let line = scalar.mark?.line
        let tag = scalar.tag.description
        let resolved: String
        if tag == implicitTagName {
            resolved = scalar.style == .plain ? resolvePlain(text) : Tag.Name.str.rawValue
        } else if tag == "!" {
            resolved = Tag.Name.str.rawValue
        } else {
            resolved = tag
        }
        switch resolved {
        case Tag.Name.str.rawValue:
            return .string(text)
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            switch text.lowercased() {
            case "yes", "true", "on": return .bool(true)
            case "no", "false", "off": return .bool(false)
            default: throw PyYAMLError.invalidScalar(path: path, line: line, text: text, tag: "bool")
            }
        case Tag.Name.int.rawValue:
            guard let digits = constructInt(text) else {
                throw PyYAMLError.invalidScalar(path: path, line: line, text: text, tag: "int")
            }
            return .integer(digits)
        case Tag.Name.float.rawValue:
            guard let number = constructFloat(text) else {
                throw PyYAMLError.invalidScalar(path: path, line: line, text: text, tag: "float")
            }
            return .double(number)
        case Tag.Name.timestamp.rawValue:
            throw PyYAMLError.notSerializable(path: path, line: line, type: "date or datetime ('\(text)')")
        case Tag.Name.binary.rawValue:
            throw PyYAMLError.notSerializable(path: path, line: line, type: "bytes value")
        case Tag.Name.merge.rawValue:
            return .string(text)
        case Tag.Name.value.rawValue:
            throw PyYAMLError.unsupportedTag(path: path, line: line, tag: resolved)
        default:
            throw PyYAMLError.unsupportedTag(path: path, line: line, tag: resolved)
        }
    }

    // MARK: - PyYAML's implicit resolvers (resolver.py, YAML 1.1)

    private static func regex(_ pattern: String) -> NSRegularExpression {
        // swift-format-ignore: NeverUseForceTry
        // FIXME: constant patterns copied from PyYAML; they cannot fail.
        try! NSRegularExpression(pattern: pattern)
    }

    private static let boolPattern = regex(
        "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
    private static let floatPattern = regex(
        #"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"#
            + #"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#)
    private static let intPattern = regex(
        #"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"#
            + #"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"#)
    private static let nullPattern = regex(#"^(?:~|null|Null|NULL|)$"#)
    private static let timestampPattern = regex(
        #"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"#
            + #"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"#
            + #"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"#)

    private static func matches(_ pattern: NSRegularExpression, _ text: String) -> Bool {
        pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// PyYAML registers resolvers per first character, in the order bool, float, int, merge, null, timestamp,
    /// value; the first that matches wins.
    static func resolvePlain(_ text: String) -> String {
        let first = text.first
        let candidates: [(Set<Character>?, NSRegularExpression?, Tag.Name)] = [
            (Set("yYnNtTfFoO"), boolPattern, .bool),
            (Set("-+0123456789."), floatPattern, .float),
            (Set("-+0123456789"), intPattern, .int),
            (Set("<"), nil, .merge),
            (Set("~nN"), nullPattern, .null),
            (Set("0123456789"), timestampPattern, .timestamp),
            (Set("="), nil, .value),
        ]
        if text.isEmpty { return Tag.Name.null.rawValue }
        for (firsts, pattern, tag) in candidates {
            guard let first, firsts?.contains(first) ?? true else { continue }
            if let pattern {
                if matches(pattern, text) { return tag.rawValue }
            } else if tag == .merge, text == "<<" {
                return tag.rawValue
            } else if tag == .value, text == "=" {
                return tag.rawValue
            }
        }
        return Tag.Name.str.rawValue
    }

    /// `SafeConstructor.construct_yaml_int`: exact digits of the value.
    static func constructInt(_ text: String) -> String? {
        var value = text.replacingOccurrences(of: "_", with: "")
        var negative = false
        if let first = value.first, first == "-" || first == "+" {
            negative = first == "-"
            value.removeFirst()
        }
        let magnitude: BigDecimalDigits?
        if value == "0" {
            magnitude = BigDecimalDigits(0)
        } else if value.hasPrefix("0b") {
            magnitude = BigDecimalDigits(parsing: value.dropFirst(2), radix: 2)
        } else if value.hasPrefix("0x") {
            magnitude = BigDecimalDigits(parsing: value.dropFirst(2), radix: 16)
        } else if value.hasPrefix("0") {
            magnitude = BigDecimalDigits(parsing: value.dropFirst(1), radix: 8)
        } else if value.contains(":") {
            var total = BigDecimalDigits(0)
            for part in value.split(separator: ":", omittingEmptySubsequences: false) {
                guard let digit = Int(part) else { return nil }
                total.multiply(by: 60)
                total.add(digit)
            }
            magnitude = total
        } else {
            magnitude = BigDecimalDigits(parsing: Substring(value), radix: 10)
        }
        guard let magnitude else { return nil }
        let digits = magnitude.decimalString
        return negative && digits != "0" ? "-" + digits : digits
    }

    /// `SafeConstructor.construct_yaml_float`.
    static func constructFloat(_ text: String) -> Double? {
        var value = text.replacingOccurrences(of: "_", with: "").lowercased()
        var sign = 1.0
        if let first = value.first, first == "-" || first == "+" {
            if first == "-" { sign = -1 }
            value.removeFirst()
        }
        if value == ".inf" { return sign * .infinity }
        if value == ".nan" { return .nan }
        if value.contains(":") {
            var total = 0.0
            for part in value.split(separator: ":", omittingEmptySubsequences: false) {
                guard let number = Double(part) else { return nil }
                total = total * 60 + number
            }
            return sign * total
        }
        guard let number = Double(value) ?? (value.hasSuffix(".") ? Double(value + "0") : nil) else { return nil }
        return sign * number
    }
}

/// A non-negative integer of any size as little-endian base-10⁹ limbs, enough for YAML's int forms.
struct BigDecimalDigits {
    private var limbs: [UInt64]  // base 1_000_000_000, least significant first

    init(_ value: Int) { limbs = [UInt64(value)] }

    init?(parsing text: Substring, radix: Int) {
        guard !text.isEmpty else { return nil }
        limbs = [0]
        for character in text {
            guard let digit = character.hexDigitValue, digit < radix else { return nil }
            multiply(by: radix)
            add(digit)
        }
    }

    mutating func multiply(by factor: Int) {
        var carry: UInt64 = 0
        for index in limbs.indices {
            let product = limbs[index] * UInt64(factor) + carry
            limbs[index] = product % 1_000_000_000
            carry = product / 1_000_000_000
        }
        while carry > 0 {
            limbs.append(carry % 1_000_000_000)
            carry /= 1_000_000_000
        }
    }

    mutating func add(_ value: Int) {
        var carry = UInt64(value)
        var index = 0
        while carry > 0 {
            if index == limbs.count { limbs.append(0) }
            let sum = limbs[index] + carry
            limbs[index] = sum % 1_000_000_000
            carry = sum / 1_000_000_000
            index += 1
        }
    }

    var decimalString: String {
        var text = String(limbs.last ?? 0)
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }
}

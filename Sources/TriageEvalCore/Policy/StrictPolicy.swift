import Foundation

/// One thing the strict policy refuses in a decision production accepted.
package struct PolicyViolation: Sendable, Equatable, Hashable {
    /// What kind of violation.
    package enum Kind: String, Sendable, CaseIterable {
        /// A parameter the catalog declares is missing.
        case missingParam = "missing_param"
        /// A parameter the catalog does not declare.
        case extraParam = "extra_param"
        /// `max_replicas`: the replicas parameter is not a decimal integer.
        case replicasNotInteger = "replicas_not_integer"
        /// `max_replicas`: the replicas parameter is above the bound.
        case replicasAboveMax = "replicas_above_max"
        /// `pattern_prefix_required`: no literal prefix before the first wildcard.
        case patternWithoutPrefix = "pattern_without_prefix"
        /// `selector` is not a valid Kubernetes label selector.
        case invalidSelector = "invalid_selector"
        /// `namespace` is not a DNS-1123 label.
        case invalidNamespace = "invalid_namespace"
    }

    /// The kind.
    package var kind: Kind
    /// The index of the action in the decision's list.
    package var actionIndex: Int
    /// The action's name.
    package var action: String
    /// The parameter concerned.
    package var param: String
    /// A human-readable detail.
    package var detail: String

    /// As JSON, for result rows and `decision check`.
    package var jsonValue: JSONValue {
        .object([
            ("kind", .string(kind.rawValue)), ("action_index", .integer(String(actionIndex))),
            ("action", .string(action)), ("param", .string(param)), ("detail", .string(detail)),
        ])
    }
}

/// The strict policy layer the seed's pitfall 1 asks for, beside production's verdict (which accepts any
/// `dict[str, str]` of parameters): reports can say "production accepted this; the strict policy would not".
///
/// - Parameters are exactly the catalog's declared ones (missing and extra are named).
/// - `constraints.max_replicas: N`: the `replicas` parameter is a decimal integer ≤ N.
/// - `constraints.pattern_prefix_required: true`: the `pattern` parameter has a literal prefix before any
///   wildcard (`*`, `?`, `[`); a bare `*` never passes.
/// - A `selector` parameter is a valid Kubernetes label selector; a `namespace` parameter is a DNS-1123 label.
package struct StrictPolicy: Sendable {
    /// The catalog whose declarations are enforced.
    package var catalog: Catalog

    package init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// Every violation in a decision, in action order, then parameter order.
    package func check(_ decision: Decision) -> [PolicyViolation] {
        var violations: [PolicyViolation] = []
        for (index, action) in decision.actions.enumerated() {
            guard let declared = catalog.action(named: action.name) else { continue }
            func add(_ kind: PolicyViolation.Kind, _ param: String, _ detail: String) {
                violations.append(
                    PolicyViolation(kind: kind, actionIndex: index, action: action.name, param: param, detail: detail))
            }
            let given = Dictionary(action.params.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
            for param in declared.params where given[param] == nil {
                add(.missingParam, param, "'\(action.name)' needs '\(param)'")
            }
            for param in action.params where !declared.params.contains(param.name) {
                add(.extraParam, param.name, "'\(action.name)' declares no '\(param.name)'")
            }
            let constraints = declared.value["constraints"]
            if let bound = constraints?["max_replicas"], let replicas = given["replicas"] {
                let limit: Int? =
                    switch bound {
                    case .integer(let digits): Int(digits)
                    case .double(let number) where number.isFinite: Int(number)
                    default: nil
                    }
                if !replicas.isEmpty, replicas.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                    if let limit, let value = Int(replicas), value <= limit {
                        // within the bound
                    } else {
                        add(
                            .replicasAboveMax, "replicas",
                            "\(replicas) is above max_replicas \(limit.map(String.init) ?? "?")")
                    }
                } else {
                    add(.replicasNotInteger, "replicas", "'\(replicas)' is not a decimal integer")
                }
            }
            if constraints?["pattern_prefix_required"] == .bool(true), let pattern = given["pattern"] {
                let prefix = pattern.prefix { !"*?[".contains($0) }
                if prefix.isEmpty {
                    add(
                        .patternWithoutPrefix, "pattern", "'\(pattern)' has no literal prefix before its first wildcard"
                    )
                }
            }
            if let selector = given["selector"], let problem = LabelSelector.problem(in: selector) {
                add(.invalidSelector, "selector", problem)
            }
            if let namespace = given["namespace"], !DNSLabel.isValid(namespace) {
                add(.invalidNamespace, "namespace", "'\(namespace)' is not a DNS-1123 label")
            }
        }
        return violations
    }
}

/// DNS-1123 labels, as Kubernetes names namespaces: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric.
package enum DNSLabel {
    /// Whether `text` is a DNS-1123 label.
    package static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return alphanumeric(bytes.first!) && alphanumeric(bytes.last!)
            && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}

/// Kubernetes label selectors (`k8s.io/apimachinery/pkg/labels`): comma-separated requirements `key`, `!key`,
/// `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`.
package enum LabelSelector {
    /// Why `text` is not a valid selector, or nil when it is. An empty selector (which selects everything) fails.
    package static func problem(in text: String) -> String? {
        // The common `key=value` form, checked without splitting and trimming.
        let bytes = text.utf8
        if !bytes.isEmpty, !bytes.contains(where: { " ,()!".utf8.contains($0) }),
            let equals = bytes.firstIndex(of: UInt8(ascii: "=")),
            !bytes[bytes.index(after: equals)...].contains(UInt8(ascii: "="))
        {
            let key = String(Substring(bytes[..<equals]))
            let value = String(Substring(bytes[bytes.index(after: equals)...]))
            return keyProblem(key) ?? valueProblem(value)
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return "empty selector (it would select every pod)" }
        for requirement in splitRequirements(trimmed) {
            if let problem = requirementProblem(requirement.trimmingCharacters(in: .whitespaces)) { return problem }
        }
        return nil
    }

    /// Splits on commas outside parentheses.
    private static func splitRequirements(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    private static func requirementProblem(_ requirement: String) -> String? {
        guard !requirement.isEmpty else { return "empty requirement" }
        if requirement.hasPrefix("!") {
            let key = String(requirement.dropFirst()).trimmingCharacters(in: .whitespaces)
            return keyProblem(key)
        }
        for op in ["!=", "==", "="] {
            if let range = requirement.range(of: op) {
                let key = String(requirement[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                let value = String(requirement[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                return keyProblem(key) ?? valueProblem(value)
            }
        }
        let words = requirement.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for op in ["notin", "in"] where rest.hasPrefix(op) {
                let list = rest.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { return "'\(requirement)': expected (values)" }
                let values = list.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
                if let problem = keyProblem(words[0]) { return problem }
                for value in values {
                    if let problem = valueProblem(value.trimmingCharacters(in: .whitespaces)) { return problem }
                }
                return nil
            }
            return "'\(requirement)': unknown operator"
        }
        return keyProblem(requirement)
    }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A qualified name: `[prefix/]name`, name 1–63 of alphanumerics, `-`, `_`, `.`, alphanumeric at both ends;
    /// the prefix a DNS-1123 subdomain.
    private static func keyProblem(_ key: String) -> String? {
        var name = Substring(key)
        if let slash = key.firstIndex(of: "/") {
            let prefix = key[..<slash]
            name = key[key.index(after: slash)...]
            let labels = prefix.split(separator: ".", omittingEmptySubsequences: false)
            guard !prefix.isEmpty, prefix.count <= 253, labels.allSatisfy({ DNSLabel.isValid(String($0)) }) else {
                return "'\(key)': invalid key prefix"
            }
        }
        guard isValidName(name) else { return "'\(key)': invalid label key" }
        return nil
    }

    private static func valueProblem(_ value: String) -> String? {
        if value.isEmpty { return nil }
        return isValidName(Substring(value)) ? nil : "'\(value)': invalid label value"
    }

    private static func isValidName(_ name: Substring) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), isNameCharacter(bytes.first!), isNameCharacter(bytes.last!) else {
            return false
        }
        return bytes.allSatisfy {
            isNameCharacter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }
}

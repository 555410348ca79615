import Foundation
import Synchronization

/// What should happen for an incident.
package enum ExpectedOutcome: String, Sendable, Codable, CaseIterable {
    /// Run exactly these actions.
    case act
    /// A person must decide.
    case human
    /// Nothing should be done.
    case none
}

/// An action a decision chose, with its parameters as strings.
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

/// How an expected parameter value is compared with the chosen one.
package enum ParamMatcher: Sendable, Hashable, CustomStringConvertible {
    /// Equal strings.
    case exact(String)
    /// The whole value matches the regular expression.
    case regex(String)
    /// Any value (the parameter must still be given).
    case any

    /// Whether a chosen value matches.
    package func matches(_ value: String) -> Bool {
        switch self {
        case .exact(let expected): return value == expected
        case .any: return true
        case .regex(let pattern):
            return value.wholeMatch(of: RegexCache.shared.regex(pattern)) != nil
        }
    }

    package var description: String {
        switch self {
        case .exact(let value): return value
        case .regex(let pattern): return "~/\(pattern)/"
        case .any: return "*"
        }
    }
}

/// Compiled regular expressions by pattern: label patterns are validated on load, then matched for every result.
final class RegexCache: Sendable {
    static let shared = RegexCache()
    private let compiled = Mutex<[String: Regex<AnyRegexOutput>]>([:])

    func regex(_ pattern: String) -> Regex<AnyRegexOutput> {
        compiled.withLock { compiled in
            if let regex = compiled[pattern] { return regex }
            // Patterns are checked when labels are loaded; one that fails here matches nothing.
            let regex = (try? Regex(pattern)) ?? (try! Regex("(?!)"))
            compiled[pattern] = regex
            return regex
        }
    }
}

/// An action a label expects, with a matcher per parameter.
package struct ExpectedAction: Sendable, Hashable, CustomStringConvertible {
    /// The action's name.
    package var name: String
    /// Matchers by parameter name: a chosen call must give exactly these parameters.
    package var params: [String: ParamMatcher]

    package init(name: String, params: [String: ParamMatcher]) {
        self.name = name
        self.params = params
    }

    /// An expectation of exact values.
    package init(_ call: ActionCall) {
        self.init(name: call.name, params: call.params.mapValues { .exact($0) })
    }

    /// Whether a chosen call is this action with matching parameters (the same parameter names, each matching).
    package func matches(_ call: ActionCall) -> Bool {
        guard call.name == name, call.params.count == params.count else { return false }
        for (key, matcher) in params {
            guard let value = call.params[key], matcher.matches(value) else { return false }
        }
        return true
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
    package var actions: [ExpectedAction]
    /// For `act`: other action sets that also count as correct.
    package var alternatives: [[ExpectedAction]]
    /// Actions that must never be executed.
    package var forbidden: [String]
    /// The labeller's note.
    package var note: String?
    /// `file:line` of the label or of the rule that made it.
    package var source: String
    /// Whether a rule made the label (else it was written for this incident).
    package var byRule: Bool

    package init(
        incidentId: String, expect: ExpectedOutcome, actions: [ExpectedAction], alternatives: [[ExpectedAction]] = [],
        forbidden: [String], note: String?, source: String, byRule: Bool = false
    ) {
        self.incidentId = incidentId
        self.expect = expect
        self.actions = actions
        self.alternatives = alternatives
        self.forbidden = forbidden
        self.note = note
        self.source = source
        self.byRule = byRule
    }

    /// Every action set that counts as a correct decision: the expected one first, then the alternatives.
    package var acceptableSets: [[ExpectedAction]] { [actions] + alternatives }
}

/// Matching chosen calls to expected actions, one to one.
package enum ActionMatching {
    /// The largest one-to-one matching of (distinct) chosen calls to expected actions: pairs of indices.
    /// Sets are small, so a plain augmenting-path search is enough.
    package static func pairs(_ chosen: [ActionCall], _ expected: [ExpectedAction]) -> [(chosen: Int, expected: Int)] {
        var owner = [Int?](repeating: nil, count: expected.count)
        func augment(_ c: Int, _ visited: inout [Bool]) -> Bool {
            for e in expected.indices where !visited[e] && expected[e].matches(chosen[c]) {
                visited[e] = true
                if owner[e] == nil || augment(owner[e]!, &visited) {
                    owner[e] = c
                    return true
                }
            }
            return false
        }
        for c in chosen.indices {
            var visited = [Bool](repeating: false, count: expected.count)
            _ = augment(c, &visited)
        }
        return owner.enumerated().compactMap { e, c in c.map { ($0, e) } }
    }

    /// Whether the chosen calls are exactly the expected set: every call matched, every expectation met.
    package static func isExact(_ chosen: [ActionCall], _ expected: [ExpectedAction]) -> Bool {
        chosen.count == expected.count && pairs(chosen, expected).count == expected.count
    }
}

import Foundation

/// Errors reading `decision check` input.
package enum DecisionCheckError: LocalizedError, Equatable {
    case badLine(source: String, reason: String)

    package var errorDescription: String? {
        switch self {
        case .badLine(let source, let reason): return "\(source): \(reason)"
        }
    }
}

/// What production does with model replies (judged by the run's ``Judge``), one JSON line each, in the parity vectors' conventions — for users
/// debugging a rejection, and for checking parity.
package struct DecisionCheck: Sendable {
    /// The judge (the catalog's allow-list; production's router, or with the approval gate).
    package var judge: Judge
    /// Whether the strict policy's verdicts are wanted beside production's.
    package var showsPolicy: Bool

    package init(judge: Judge, showsPolicy: Bool = false) {
        self.judge = judge
        self.showsPolicy = showsPolicy
    }

    /// The verdict on one reply as a JSON object: `id`, `outcome`, `errors` (`type`, `loc`), `decision` (null
    /// unless ok; non-finite floats as the strings "NaN", "Infinity", "-Infinity"), `route`, `failure_class`, and
    /// `policy_violations` when a strict policy is set.
    package func verdictLine(id: JSONValue, text: String) -> JSONValue {
        let judgement = judge.judge(.text(text), label: nil)
        let verdict = judgement.verdict!
        var members: [(key: String, value: JSONValue)] = [
            ("id", id),
            ("outcome", .string(verdict.outcome.rawValue)),
            (
                "errors",
                .array(
                    verdict.errors.map { issue in
                        .object([("type", .string(issue.type)), ("loc", .array(issue.loc.map(\.jsonValue)))])
                    })
            ),
            ("decision", verdict.outcome == .ok ? Self.vectorForm(verdict.decision!.jsonValue) : .null),
            ("route", .string(judgement.finalRoute.route.rawValue)),
            ("failure_class", .string(verdict.failureClass.rawValue)),
        ]
        if showsPolicy {
            members.append(("policy_violations", .array(judgement.policyViolations.map(\.jsonValue))))
        }
        return .object(members)
    }

    /// Non-finite floats as the strings the vectors use (JSON has no literal for them).
    package static func vectorForm(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number) where number.isNaN: return .string("NaN")
        case .double(let number) where number.isInfinite: return .string(number < 0 ? "-Infinity" : "Infinity")
        case .array(let elements): return .array(elements.map(vectorForm))
        case .object(let members): return .object(members.map { ($0.key, vectorForm($0.value)) })
        default: return value
        }
    }

    /// Checks every `{"id", "text"}` line of a JSON Lines input, writing one verdict line each.
    /// - Parameters:
    ///   - path: the input (`-` for standard input).
    ///   - write: receives each output line (without its newline).
    /// - Returns: how many lines were checked.
    /// - Throws: ``DecisionCheckError`` naming `file:line` for a line that is not such an object; ``InputError``.
    @discardableResult
    package func run(path: String, write: (String) -> Void) throws -> Int {
        let reader = LineReader(source: try ByteSource(path: path))
        var count = 0
        while let line: JSONValue? = try reader.nextLine({ bytes -> JSONValue? in
            guard bytes.contains(where: { $0 > 0x20 }) else { return nil }
            let source = "\(path == "-" ? "<stdin>" : path):\(reader.lineNumber)"
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes, options: .python)
            } catch {
                throw DecisionCheckError.badLine(source: source, reason: "not JSON: \(error)")
            }
            guard case .object = value, let text = value["text"]?.stringValue else {
                throw DecisionCheckError.badLine(source: source, reason: "expected an object with a string \"text\"")
            }
            return verdictLine(id: value["id"] ?? .null, text: text)
        }) {
            if let line {
                write(PythonJSONEncoder.string(line))
                count += 1
            }
        }
        return count
    }
}

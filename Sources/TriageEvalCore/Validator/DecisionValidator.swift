/// Production's verdict on a model reply: `Decision.model_validate_json(text)` in pydantic 2.13 lax mode, then
/// the name allow-list.
package struct Verdict: Sendable, Equatable {
    /// `ok`, `validation_error` or `unknown_action`.
    package enum Outcome: String, Sendable, Codable {
        case ok
        case validationError = "validation_error"
        case unknownAction = "unknown_action"
    }

    /// The outcome.
    package var outcome: Outcome
    /// pydantic's errors, in pydantic's order (empty unless `validationError`).
    package var errors: [ValidationIssue]
    /// The validated decision (for `ok` and `unknownAction`).
    package var decision: Decision?
    /// The first name in list order that is not in the allow-list (for `unknownAction`).
    package var unknownAction: String?
    /// The failure class.
    package var failureClass: FailureClass
    /// For a syntax error: the byte offset where the text stopped being JSON.
    package var syntaxErrorOffset: Int?
}

/// Validates model replies exactly as production does.
///
/// The text is parsed as jiter parses it for pydantic (``JSONParser/Options/pydantic``): any syntax error is one
/// `json_invalid` at `[]`. Then the Decision schema is applied with pydantic's lax rules on JSON input, fields in
/// declaration order, a repeated model field taking its last value and a repeated `params` key validated each
/// time. Only a valid decision is checked against the allow-list.
package struct DecisionValidator: Sendable {
    /// The allow-list: the catalog's action names.
    package var allowedNames: Set<String>

    /// Creates a validator for a catalog's names.
    package init(allowedNames: Set<String>) {
        self.allowedNames = allowedNames
    }

    /// The verdict on one reply text.
    package func validate(_ text: String) -> Verdict {
        var text = text
        return text.withUTF8 { verdict(bytes: $0, isValidUTF8: true) }
    }

    /// The verdict on one reply's bytes.
    package func validate(bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        verdict(bytes: bytes, isValidUTF8: UTF8Validation.firstInvalidOffset(bytes) == nil)
    }

    private func verdict(bytes: UnsafeBufferPointer<UInt8>, isValidUTF8: Bool) -> Verdict {
        if isValidUTF8, let decision = DecisionFastPath.decode(bytes) {
            return checked(decision)
        }
        return generalVerdict(bytes: bytes)
    }

    /// The allow-list, checked only once validation passed.
    private func checked(_ decision: Decision) -> Verdict {
        if let unknown = decision.actions.first(where: { !allowedNames.contains($0.name) }) {
            return Verdict(
                outcome: .unknownAction, errors: [], decision: decision, unknownAction: unknown.name,
                failureClass: .unknownAction, syntaxErrorOffset: nil)
        }
        return Verdict(
            outcome: .ok, errors: [], decision: decision, unknownAction: nil, failureClass: .ok,
            syntaxErrorOffset: nil)
    }

    /// Every rule: the text parsed to a tree as jiter does, then the schema applied with pydantic's lax rules.
    /// ``validate(bytes:)`` takes this path only when ``DecisionFastPath`` declines; it is open to the fuzzer,
    /// which checks that both paths give one verdict.
    package func generalVerdict(bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, options: .pydantic)
        } catch {
            return Verdict(
                outcome: .validationError,
                errors: [ValidationIssue("json_invalid", [])],
                decision: nil,
                unknownAction: nil,
                failureClass: FailureClassifier.classifyInvalid(bytes),
                syntaxErrorOffset: error.offset
            )
        }
        var errors: [ValidationIssue] = []
        let decision = Self.decision(from: value, errors: &errors)
        guard let decision, errors.isEmpty else {
            let isNotObject = errors.count == 1 && errors[0] == ValidationIssue("model_type", [])
            return Verdict(
                outcome: .validationError,
                errors: errors,
                decision: nil,
                unknownAction: nil,
                failureClass: isNotObject ? .notObject : .schema,
                syntaxErrorOffset: nil
            )
        }
        return checked(decision)
    }

    // MARK: - The Decision schema

    /// The value of a model field: pydantic reads the last occurrence of a repeated key.
    private static func field(_ members: [(key: String, value: JSONValue)], _ name: String) -> JSONValue? {
        var index = members.count
        while index > 0 {
            index -= 1
            if JSONKey.same(members[index].key, name) { return members[index].value }
        }
        return nil
    }

    static func decision(from value: JSONValue, errors: inout [ValidationIssue]) -> Decision? {
        guard case .object(let members) = value else {
            errors.append(ValidationIssue("model_type", []))
            return nil
        }
        let incidentId = string(field(members, "incident_id"), at: [.key("incident_id")], errors: &errors)
        let actions = actionList(field(members, "actions"), errors: &errors)
        let confidence = float(field(members, "confidence"), at: [.key("confidence")], errors: &errors)
        let needsHuman = bool(field(members, "needs_human"), at: [.key("needs_human")], errors: &errors)
        guard let incidentId, let actions, let confidence, let needsHuman else { return nil }
        return Decision(incidentId: incidentId, actions: actions, confidence: confidence, needsHuman: needsHuman)
    }

    private static func actionList(_ value: JSONValue?, errors: inout [ValidationIssue]) -> [DecisionAction]? {
        guard let value else {
            errors.append(ValidationIssue("missing", [.key("actions")]))
            return nil
        }
        guard case .array(let elements) = value else {
            errors.append(ValidationIssue("list_type", [.key("actions")]))
            return nil
        }
        var actions: [DecisionAction] = []
        actions.reserveCapacity(elements.count)
        var failed = false
        for (index, element) in elements.enumerated() {
            let loc: [LocationElement] = [.key("actions"), .index(index)]
            guard case .object(let members) = element else {
                errors.append(ValidationIssue("model_type", loc))
                failed = true
                continue
            }
            let name = string(field(members, "name"), at: loc + [.key("name")], errors: &errors)
            let params = stringDict(field(members, "params"), at: loc + [.key("params")], errors: &errors)
            let rationale = string(field(members, "rationale"), at: loc + [.key("rationale")], errors: &errors)
            if let name, let params, let rationale {
                actions.append(DecisionAction(name: name, params: params, rationale: rationale))
            } else {
                failed = true
            }
        }
        return failed ? nil : actions
    }

    /// `str` in lax mode on JSON input: only a JSON string.
    private static func string(_ value: JSONValue?, at loc: [LocationElement], errors: inout [ValidationIssue])
        -> String?
    {
        guard let value else {
            errors.append(ValidationIssue("missing", loc))
            return nil
        }
        guard case .string(let text) = value else {
            errors.append(ValidationIssue("string_type", loc))
            return nil
        }
        return text
    }

    /// `dict[str, str]`: every member validated in order (repeats included), the last value kept at the first
    /// position.
    private static func stringDict(_ value: JSONValue?, at loc: [LocationElement], errors: inout [ValidationIssue])
        -> [DecisionAction.Param]?
    {
        guard let value else {
            errors.append(ValidationIssue("missing", loc))
            return nil
        }
        guard case .object(let members) = value else {
            errors.append(ValidationIssue("dict_type", loc))
            return nil
        }
        var params: [DecisionAction.Param] = []
        params.reserveCapacity(members.count)
        var seen = FirstOccurrenceIndex()
        var failed = false
        for member in members {
            guard case .string(let text) = member.value else {
                errors.append(ValidationIssue("string_type", loc + [.key(member.key)]))
                failed = true
                continue
            }
            if let existing = seen.position(of: member.key, count: params.count, keyAt: { params[$0].name }) {
                params[existing].value = text
            } else {
                params.append(DecisionAction.Param(name: member.key, value: text))
            }
        }
        return failed ? nil : params
    }

    /// `float` in lax mode on JSON input: numbers, booleans, and strings Rust's `f64` parser accepts.
    private static func float(_ value: JSONValue?, at loc: [LocationElement], errors: inout [ValidationIssue])
        -> Double?
    {
        guard let value else {
            errors.append(ValidationIssue("missing", loc))
            return nil
        }
        switch value {
        case .double(let number): return number
        case .integer(let digits): return Double(digits) ?? (digits.hasPrefix("-") ? -.infinity : .infinity)
        case .bool(let flag): return flag ? 1 : 0
        case .string(let text):
            if let number = LaxNumber.pydanticFloat(text) { return number }
            errors.append(ValidationIssue("float_parsing", loc))
            return nil
        default:
            errors.append(ValidationIssue("float_type", loc))
            return nil
        }
    }

    /// `bool` in lax mode on JSON input.
    private static func bool(_ value: JSONValue?, at loc: [LocationElement], errors: inout [ValidationIssue])
        -> Bool?
    {
        guard let value else {
            errors.append(ValidationIssue("missing", loc))
            return nil
        }
        switch value {
        case .bool(let flag): return flag
        case .string(let text):
            if let flag = LaxNumber.pydanticBool(text) { return flag }
            errors.append(ValidationIssue("bool_parsing", loc))
            return nil
        case .integer(let digits):
            // Integers beyond i64 are big ints in jiter, which bool does not accept at all.
            guard let integer = Int64(digits) else {
                errors.append(ValidationIssue("bool_type", loc))
                return nil
            }
            if integer == 0 || integer == 1 { return integer == 1 }
            errors.append(ValidationIssue("bool_parsing", loc))
            return nil
        case .double(let number):
            // float_as_int: finite, integral and within i64, else not a bool at all.
            guard number.isFinite, number.rounded(.towardZero) == number,
                number >= -9.223_372_036_854_775_808e18, number < 9.223_372_036_854_775_808e18
            else {
                errors.append(ValidationIssue("bool_type", loc))
                return nil
            }
            if number == 0 || number == 1 { return number == 1 }
            errors.append(ValidationIssue("bool_parsing", loc))
            return nil
        default:
            errors.append(ValidationIssue("bool_type", loc))
            return nil
        }
    }
}

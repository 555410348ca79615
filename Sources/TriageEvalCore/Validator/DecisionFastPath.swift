/// The common case of ``DecisionValidator``, decoded straight from the bytes with no intermediate tree.
///
/// It accepts only replies whose every field has its plain JSON type — a string `incident_id`, an array of
/// objects with string `name`, an object of string `params` and a string `rationale`, a number (or boolean, or
/// numeric string) `confidence`, a boolean (or 0/1, or boolean string) `needs_human` — with each model field
/// present once. For those, pydantic's lax rules give the obvious result, computed here. Anything else (a syntax
/// error, a wrong type, a missing or repeated field, a non-object) returns nil, and the validator takes the
/// general path, which implements every rule; so the fast path can only be faster, never different.
enum DecisionFastPath {
    /// Thrown inside the walk to leave it for the general path.
    private struct Bail: Error {}

    private static var trustedOptions: JSONParser.Options {
        var options = JSONParser.Options.pydantic
        options.inputIsValidUTF8 = true
        return options
    }

    private static let optionsForValidUTF8 = trustedOptions

    /// The decision, or nil when the reply needs the general path. `bytes` must be valid UTF-8.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Decision? {
        var cursor = JSONParser(bytes: bytes, options: optionsForValidUTF8)
        var incidentId: String?
        var actions: [DecisionAction]?
        var confidence: Double?
        var needsHuman: Bool?
        do {
            cursor.skipWhitespace()
            guard cursor.nextByte == UInt8(ascii: "{") else { return nil }
            try cursor.rawMembers(depth: 1) { key, cursor throws(JSONSyntaxError) in
                if key.equals("incident_id") {
                    guard incidentId == nil, cursor.nextByte == UInt8(ascii: "\"") else { throw bail }
                    incidentId = try cursor.parseString()
                } else if key.equals("actions") {
                    guard actions == nil, cursor.nextByte == UInt8(ascii: "[") else { throw bail }
                    var list: [DecisionAction] = []
                    try cursor.elements(depth: 2) { _, cursor throws(JSONSyntaxError) in
                        list.append(try action(&cursor))
                    }
                    actions = list
                } else if key.equals("confidence") {
                    guard confidence == nil else { throw bail }
                    confidence = try float(&cursor)
                } else if key.equals("needs_human") {
                    guard needsHuman == nil else { throw bail }
                    needsHuman = try bool(&cursor)
                } else {
                    try cursor.skipValue(depth: 1)
                }
            }
            try cursor.expectEnd()
        } catch {
            return nil
        }
        guard let incidentId, let actions, let confidence, let needsHuman else { return nil }
        return Decision(incidentId: incidentId, actions: actions, confidence: confidence, needsHuman: needsHuman)
    }

    // Typed throws cannot carry Bail, so leaving the walk reuses a syntax error the caller never reports.
    private static let bail = JSONSyntaxError(kind: .invalid, offset: 0, reason: "general path")

    private static func action(_ cursor: inout JSONParser) throws(JSONSyntaxError) -> DecisionAction {
        guard cursor.nextByte == UInt8(ascii: "{") else { throw bail }
        var name: String?
        var params: [DecisionAction.Param]?
        var rationale: String?
        try cursor.rawMembers(depth: 3) { key, cursor throws(JSONSyntaxError) in
            if key.equals("name") {
                guard name == nil, cursor.nextByte == UInt8(ascii: "\"") else { throw bail }
                name = try cursor.parseString()
            } else if key.equals("rationale") {
                guard rationale == nil, cursor.nextByte == UInt8(ascii: "\"") else { throw bail }
                rationale = try cursor.parseString()
            } else if key.equals("params") {
                guard params == nil, cursor.nextByte == UInt8(ascii: "{") else { throw bail }
                var list: [DecisionAction.Param] = []
                var seen = FirstOccurrenceIndex()
                try cursor.members(depth: 4) { param, cursor throws(JSONSyntaxError) in
                    guard cursor.nextByte == UInt8(ascii: "\"") else { throw bail }
                    let value = try cursor.parseString()
                    // A repeated key keeps its last value at its first position, as pydantic's dict does.
                    if let existing = seen.position(of: param, count: list.count, keyAt: { list[$0].name }) {
                        list[existing].value = value
                    } else {
                        list.append(DecisionAction.Param(name: param, value: value))
                    }
                }
                params = list
            } else {
                try cursor.skipValue(depth: 3)
            }
        }
        guard let name, let params, let rationale else { throw bail }
        return DecisionAction(name: name, params: params, rationale: rationale)
    }

    private static func float(_ cursor: inout JSONParser) throws(JSONSyntaxError) -> Double {
        if let number = try cursor.numberAsDouble() { return number }
        switch try cursor.value(depth: 1) {
        case .double(let number): return number
        case .integer(let digits): return Double(digits) ?? (digits.hasPrefix("-") ? -.infinity : .infinity)
        case .bool(let flag): return flag ? 1 : 0
        case .string(let text):
            guard let number = LaxNumber.pydanticFloat(text) else { throw bail }
            return number
        default: throw bail
        }
    }

    private static func bool(_ cursor: inout JSONParser) throws(JSONSyntaxError) -> Bool {
        switch cursor.nextByte {
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if case .bool(let flag) = try cursor.value(depth: 1) { return flag }
            throw bail
        default:
            break
        }
        switch try cursor.value(depth: 1) {
        case .bool(let flag): return flag
        case .integer("0"): return false
        case .integer("1"): return true
        case .string(let text):
            guard let flag = LaxNumber.pydanticBool(text) else { throw bail }
            return flag
        default: throw bail
        }
    }
}

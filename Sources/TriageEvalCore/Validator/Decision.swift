/// One action a decision chooses.
package struct DecisionAction: Sendable, Equatable, Codable {
    /// The catalog action's name.
    package var name: String
    /// Parameters, in first-occurrence order (a repeated key keeps its last value at its first position).
    package var params: [Param]
    /// The model's reason.
    package var rationale: String

    package init(name: String, params: [Param], rationale: String) {
        self.name = name
        self.params = params
        self.rationale = rationale
    }

    /// One parameter.
    package struct Param: Sendable, Equatable, Codable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
}

/// A decision as production's pydantic model holds it after `model_validate_json`.
package struct Decision: Sendable, Equatable {
    package var incidentId: String
    package var actions: [DecisionAction]
    package var confidence: Double
    package var needsHuman: Bool

    package init(incidentId: String, actions: [DecisionAction], confidence: Double, needsHuman: Bool) {
        self.incidentId = incidentId
        self.actions = actions
        self.confidence = confidence
        self.needsHuman = needsHuman
    }

    /// `Decision.model_dump()` as a JSON value (field order as declared).
    package var jsonValue: JSONValue {
        .object([
            ("incident_id", .string(incidentId)),
            (
                "actions",
                .array(
                    actions.map { action in
                        .object([
                            ("name", .string(action.name)),
                            ("params", .object(action.params.map { ($0.name, JSONValue.string($0.value)) })),
                            ("rationale", .string(action.rationale)),
                        ])
                    }
                )
            ),
            ("confidence", .double(confidence)),
            ("needs_human", .bool(needsHuman)),
        ])
    }
}

extension Decision {
    /// `json.dumps(decision.model_dump())`: the bytes of ``PythonJSONEncoder`` encoding ``jsonValue``, written
    /// directly (the runner stores one per result; building the value tree first doubled the cost).
    package var pythonJSON: String {
        var output: [UInt8] = []
        output.reserveCapacity(128 + actions.count * 160)
        output.append(contentsOf: #"{"incident_id": "#.utf8)
        PythonJSONEncoder.writeString(incidentId, to: &output)
        output.append(contentsOf: #", "actions": ["#.utf8)
        for (index, action) in actions.enumerated() {
            if index > 0 { output.append(contentsOf: ", ".utf8) }
            output.append(contentsOf: #"{"name": "#.utf8)
            PythonJSONEncoder.writeString(action.name, to: &output)
            output.append(contentsOf: #", "params": {"#.utf8)
            for (position, param) in action.params.enumerated() {
                if position > 0 { output.append(contentsOf: ", ".utf8) }
                PythonJSONEncoder.writeString(param.name, to: &output)
                output.append(contentsOf: ": ".utf8)
                PythonJSONEncoder.writeString(param.value, to: &output)
            }
            output.append(contentsOf: #"}, "rationale": "#.utf8)
            PythonJSONEncoder.writeString(action.rationale, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: #"], "confidence": "#.utf8)
        output.append(contentsOf: PythonJSONEncoder.pythonFloatRepr(confidence).utf8)
        output.append(contentsOf: needsHuman ? #", "needs_human": true}"#.utf8 : #", "needs_human": false}"#.utf8)
        return String(decoding: output, as: UTF8.self)
    }
}

/// One element of a pydantic `loc`: a field name or a list index.
package enum LocationElement: Sendable, Equatable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    package var description: String {
        switch self {
        case .key(let key): return key
        case .index(let index): return String(index)
        }
    }

    /// As a JSON value, the way the parity vectors write `loc`.
    package var jsonValue: JSONValue {
        switch self {
        case .key(let key): return .string(key)
        case .index(let index): return .integer(String(index))
        }
    }
}

/// One pydantic validation error, reduced to its type and location.
package struct ValidationIssue: Sendable, Equatable, Hashable {
    /// pydantic's error type (`missing`, `string_type`, `json_invalid`, ...).
    package var type: String
    /// pydantic's `loc`.
    package var loc: [LocationElement]

    package init(_ type: String, _ loc: [LocationElement]) {
        self.type = type
        self.loc = loc
    }
}

/// One action a decision chooses.
package struct DecisionAction: Sendable, Equatable, Codable {
    /// The catalog action's name.
    package var name: String
    /// Parameters, in first-occurrence order (a repeated key keeps its last value at its first position).
    package var params: [Param]
    /// The model's reason.
    package var rationale: String

    /// One parameter.
    package struct Param: Sendable, Equatable, Codable {
        package var name: String
        package var value: String
    }
}

/// A decision as production's pydantic model holds it after `model_validate_json`.
package struct Decision: Sendable, Equatable {
    package var incidentId: String
    package var actions: [DecisionAction]
    package var confidence: Double
    package var needsHuman: Bool

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

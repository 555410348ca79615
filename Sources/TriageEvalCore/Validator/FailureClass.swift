/// What kind of reply a sample got, in precedence order.
///
/// The first four are invalid JSON (production's parser rejected the text); `notObject` and `schema` are valid
/// JSON that is not a valid decision; `unknownAction` passed validation but names an action outside the catalog.
package enum FailureClass: String, Sendable, Codable, CaseIterable, Comparable {
    case ok
    /// Nothing but JSON whitespace (space, tab, CR, LF).
    case empty
    /// Not valid JSON, but a valid JSON object appears inside other text (prose, a code fence).
    case wrapped
    /// Not valid JSON, and the text (after any opening prose or fence) ends inside a value.
    case truncated
    /// Any other JSON syntax error.
    case syntax
    /// Valid JSON that is not an object.
    case notObject = "not_object"
    /// A valid object that fails the Decision schema.
    case schema
    /// A valid decision naming an action the catalog does not have.
    case unknownAction = "unknown_action"
    /// No reply at all: the call failed (a later issue's runner stores these).
    case transport

    /// Whether production's JSON parser rejected the text.
    package var isInvalidJSON: Bool { [.empty, .wrapped, .truncated, .syntax].contains(self) }

    package static func < (lhs: FailureClass, rhs: FailureClass) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

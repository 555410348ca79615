import Testing
import TriageEvalCore

/// Repeated `params` keys, worked out by hand from pydantic 2.13's rule (every occurrence validated, the last
/// value kept at the first key's position, keys compared code point for code point as Python's `dict` does), on
/// both the fast path and the general one, and on replies large enough that a per-key scan would take minutes.
@Suite struct DecisionValidatorTests {
    static let validator = DecisionValidator(
        allowedNames: ["restart_pods", "scale_up", "rollback_release", "clear_redis_keys"])

    /// A decision with one `scale_up` action whose `params` object has the given members (JSON text). On the
    /// general path `needs_human` is given twice, which the fast path leaves to the general one.
    static func reply(params: String, path: Path) -> String {
        let needsHuman = path == .general ? #"true,"needs_human":false"# : "false"
        return #"{"incident_id":"inc-1","actions":[{"name":"scale_up","params":{"#
            + params + #"},"rationale":"r"}],"confidence":0.9,"needs_human":"# + needsHuman + "}"
    }

    enum Path: CaseIterable, Sendable {
        case fast
        case general
    }

    /// The params of an `ok` verdict as `name=value`, or its errors as `type@loc`.
    static func outcome(params: String, path: Path) -> [String] {
        let verdict = validator.validate(reply(params: params, path: path))
        guard verdict.outcome == .ok, let decision = verdict.decision else {
            return verdict.errors.map { "\($0.type)@\($0.loc.map(\.description).joined(separator: "."))" }
        }
        #expect(decision.needsHuman == false)
        return decision.actions[0].params.map { "\($0.name)=\($0.value)" }
    }

    /// `"k0":"v0","k1":"v1",…` for the first `count` keys.
    static func distinctMembers(_ count: Int) -> String {
        (0..<count).map { #""k\#($0)":"v\#($0)""# }.joined(separator: ",")
    }

    @Test(arguments: Path.allCases)
    func repeatedKeysKeepTheLastValueAtTheFirstPosition(_ path: Path) {
        #expect(Self.outcome(params: #""b":"1","a":"x","b":"2""#, path: path) == ["b=2", "a=x"])
        #expect(
            Self.outcome(params: #""a":"1","b":"2","a":"3","c":"4","a":"5""#, path: path) == ["a=5", "b=2", "c=4"])
        // Past the keys searched one by one, the hash table must give the same answer.
        let twenty = Self.distinctMembers(20) + #","k3":"w","k19":"w","k0":"w""#
        var expected = (0..<20).map { "k\($0)=v\($0)" }
        for index in [0, 3, 19] { expected[index] = "k\(index)=w" }
        #expect(Self.outcome(params: twenty, path: path) == expected)
    }

    /// Swift's `String ==` is canonical equivalence; Python's `dict` keeps the Kelvin sign apart from `K`, and a
    /// precomposed `é` apart from `e` with a combining acute accent (checked with pydantic 2.13.4).
    @Test(arguments: Path.allCases)
    func canonicallyEquivalentKeysStayApart(_ path: Path) {
        let members = #""K":"1","\u212a":"2","\u00e9":"3","e\u0301":"4","K":"5""#
        let expected = ["K=5", "\u{212A}=2", "\u{E9}=3", "e\u{301}=4"]
        #expect(Self.outcome(params: members, path: path) == expected)
        let hashed = Self.outcome(params: Self.distinctMembers(12) + "," + members, path: path)
        #expect(Array(hashed.dropFirst(12)) == expected)
    }

    @Test(arguments: Path.allCases)
    func everyRepeatIsValidated(_ path: Path) {
        #expect(Self.outcome(params: #""a":1,"b":"x","a":"2""#, path: path) == ["string_type@actions.0.params.a"])
        #expect(
            Self.outcome(params: Self.distinctMembers(15) + #","k3":1,"k20":"v","k3":2"#, path: path) == [
                "string_type@actions.0.params.k3", "string_type@actions.0.params.k3",
            ])
    }

    /// A reply with 200,000 distinct keys and one repeat (2.7 MB): a per-key scan of the keys so far took 86 s.
    @Test(arguments: Path.allCases)
    func hugeParamsObjectValidates(_ path: Path) throws {
        let count = 200_000
        let members = (0..<count).map { #""k\#($0)":"v""# }.joined(separator: ",")
        let verdict = Self.validator.validate(Self.reply(params: members + #","k0":"last""#, path: path))
        #expect(verdict.outcome == .ok)
        #expect(verdict.errors.isEmpty)
        let params = try #require(verdict.decision?.actions.first?.params)
        #expect(params.count == count)
        #expect(params.first == DecisionAction.Param(name: "k0", value: "last"))
        #expect(params[1] == DecisionAction.Param(name: "k1", value: "v"))
        #expect(params.last == DecisionAction.Param(name: "k199999", value: "v"))

        let invalid = Self.validator.validate(Self.reply(params: members + #","k199999":1"#, path: path))
        #expect(invalid.outcome == .validationError)
        #expect(
            invalid.errors == [
                ValidationIssue("string_type", [.key("actions"), .index(0), .key("params"), .key("k199999")])
            ])
    }
}

import Testing
import TriageEvalCore

/// Repeated keys as Python 3.11's `json.loads` keeps them (worked out by hand): the last value at the first
/// key's position, keys compared code point for code point; and in input order for pydantic's dialect.
@Suite struct JSONParserTests {
    static func keys(_ text: String, options: JSONParser.Options = .python) throws -> [String] {
        try #require(try JSONParser.parse(text, options: options).objectMembers).map { member in
            "\(member.key)=\(member.value.stringValue ?? PythonJSONEncoder.string(member.value))"
        }
    }

    @Test func repeatedKeysKeepTheLastValueAtTheFirstPosition() throws {
        #expect(try Self.keys(#"{"b":1,"a":2,"b":3}"#) == ["b=3", "a=2"])
        #expect(try Self.keys(#"{"b":1,"a":2,"b":3}"#, options: .pydantic) == ["b=1", "a=2", "b=3"])
        let many = (0..<30).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        var expected = (0..<30).map { "k\($0)=\($0)" }
        expected[29] = "k29=x"
        expected[2] = "k2=y"
        #expect(try Self.keys("{" + many + #","k29":"x","k2":"y"}"#) == expected)
    }

    /// `json.loads('{"K": 1, "\\u212a": 2, "K": 3}')` is `{'K': 3, 'K': 2}` (the second is the Kelvin sign).
    @Test func canonicallyEquivalentKeysStayApart() throws {
        let value = try JSONParser.parse(#"{"K":1,"\u212a":2,"\u00e9":3,"e\u0301":4,"K":5}"#)
        #expect(
            try Self.keys(#"{"K":1,"\u212a":2,"\u00e9":3,"e\u0301":4,"K":5}"#) == [
                "K=5", "\u{212A}=2", "\u{E9}=3", "e\u{301}=4",
            ])
        #expect(value["\u{212A}"] == .integer("2"))
        #expect(value["K"] == .integer("5"))
        #expect(value["e\u{301}"] == .integer("4"))
    }

    /// 200,000 keys and a repeat of the first: a per-key scan of the keys so far would take minutes.
    @Test func hugeObjectParses() throws {
        let members = (0..<200_000).map { #""k\#($0)":"v""# }.joined(separator: ",")
        let value = try JSONParser.parse("{" + members + #","k0":"last"}"#)
        let parsed = try #require(value.objectMembers)
        #expect(parsed.count == 200_000)
        #expect(parsed.first?.key == "k0" && parsed.first?.value == .string("last"))
        #expect(parsed.last?.key == "k199999")
    }
}

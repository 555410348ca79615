import Testing
import TriageEvalCore

/// The report header's decoding parameters beside production's request, whose only decoding parameter is the
/// seed's `max_tokens=1024` (no temperature, no response format, nothing else).
@Suite struct DecodingParameterTests {
    static func parameters(_ model: String) throws -> [RunReport.DecodingParameter] {
        let file = ScenarioFile.stored(#"{"model": \#(model)}"#)
        return RunReport.DecodingParameter.of(try #require(file.model))
    }

    @Test func aRunAskingAsProductionDiffersInNothing() throws {
        let parameters = try Self.parameters(#"{"max_tokens": 1024}"#)
        #expect(parameters.map(\.name) == ["max_tokens", "temperature", "response_format"])
        #expect(parameters.allSatisfy { !$0.differs })
        #expect(
            parameters.map(ReportText.decoding) == [
                "1024, as production",
                "not sent (the API's default), as production",
                "not sent (the API's default), as production",
            ])
    }

    @Test func everyParameterSetOtherwiseIsMarked() throws {
        // Objects come out with their keys sorted, other parameters by name (a stored scenario keeps no order).
        let parameters = try Self.parameters(
            #"{"max_tokens": 256, "temperature": 0, "response_format": {"type": "json_object", "a": [{"z": 1, "b": 2}]}, "params": {"top_p": 0.9, "seed": 7}}"#
        )
        #expect(parameters.map(\.name) == ["max_tokens", "temperature", "response_format", "seed", "top_p"])
        #expect(parameters.allSatisfy { $0.differs })
        #expect(
            parameters.map(\.value) == [
                "256", "0.0", #"{"a": [{"b": 2, "z": 1}], "type": "json_object"}"#, "7", "0.9",
            ])
        #expect(parameters.map(\.production) == ["1024", nil, nil, nil, nil])
        #expect(
            ReportText.decoding(parameters[0]) == "256 — differs from production: 1024"
                && ReportText.decoding(parameters[1]) == "0.0 — differs from production: not sent (the API's default)")
    }

    @Test func aLongValueIsCutInTheHeaderAndKeptWhole() throws {
        // A value of 100 characters (one member: a stored object's order is its own): 60 shown, its length said.
        let schema = #"{"pad": ""# + String(repeating: "x", count: 89) + #""}"#
        let parameters = try Self.parameters(#"{"max_tokens": 1024, "response_format": \#(schema)}"#)
        let value = try #require(parameters[2].value)
        #expect(value == schema && value.count == 100)
        #expect(
            ReportText.decoding(parameters[2])
                == String(schema.prefix(60))
                + "… (100 characters) — differs from production: not sent (the API's default)")
    }
}

import Foundation
import Testing

import TriageEvalCore

/// Argo Events' own `sensors/triggers/params_test.go` cases (`Fixtures/dispatch/argo-events-params-cases.json`,
/// transcribed with their source and what was left out named in the file), run through the dispatch's
/// `resolve` and `apply`. Expected values come from the Go tests, not from triage-eval.
@Suite struct ArgoEventsParamsTests {
    struct Case: @unchecked Sendable, CustomTestStringConvertible {
        var name: String
        var fields: [String: Any]
        var testDescription: String { name }
    }

    static func cases(_ section: String) throws -> [Case] {
        let data = Data(try Fixtures.text("dispatch/argo-events-params-cases.json").utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(root[section] as? [[String: Any]])
        return entries.map { Case(name: $0["name"] as! String, fields: $0) }
    }

    static func event(_ fields: [String: Any]) throws -> [String: SensorDispatch.Event] {
        let context = try JSONParser.parse(
            String(decoding: try JSONSerialization.data(withJSONObject: fields["context"]!), as: UTF8.self))
        // The context's field order matters to the whole-event case: EventContext's order.
        let ordered = JSONValue.object(
            ["id", "source", "specversion", "type", "datacontenttype", "subject", "time"].map {
                ($0, context[$0] ?? .null)
            })
        let data = try JSONParser.parse(fields["data"] as! String)
        return ["fake-dependency": SensorDispatch.Event(context: ordered, data: data)]
    }

    static func parameter(_ src: [String: Any], dest: String = "", operation: String? = nil)
        -> PipelineManifests.Parameter
    {
        PipelineManifests.Parameter(
            dependencyName: src["dependencyName"] as! String, dataKey: src["dataKey"] as? String,
            dataTemplate: src["dataTemplate"] as? String, contextKey: src["contextKey"] as? String,
            contextTemplate: src["contextTemplate"] as? String, value: src["value"] as? String,
            useRawData: src["useRawData"] as? Bool ?? false, dest: dest, operation: operation,
            location: .init(file: "argo-events-params-cases.json", line: nil))
    }

    /// A value with every string that holds a JSON object or list replaced by that JSON, and base64 `data` of a
    /// whole event decoded: the Go tests' event data is not compact, a Sensor's always is (see the fixture).
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            if text.hasPrefix("{") || text.hasPrefix("["), let parsed = try? JSONParser.parse(text) {
                return normalized(parsed)
            }
            return value
        case .array(let elements): return .array(elements.map(normalized))
        case .object(let members):
            return .object(
                members.map { member in
                    if member.key == "data", case .string(let base64) = member.value,
                        let bytes = Data(base64Encoded: base64), let parsed = try? JSONParser.parse([UInt8](bytes))
                    {
                        return (member.key, normalized(parsed))
                    }
                    return (member.key, normalized(member.value))
                })
        default: return value
        }
    }

    static func same(_ actual: String, _ expected: String) -> Bool {
        if actual == expected { return true }
        guard let left = try? JSONParser.parse(actual), let right = try? JSONParser.parse(expected) else {
            return false
        }
        return normalized(left) == normalized(right)
    }

    @Test(arguments: try cases("resolve"))
    func resolveParamValue(_ test: Case) throws {
        let source = test.fields["source"] as! [String: Any]
        let resolved = try #require(try SensorDispatch.resolve(Self.parameter(source), events: Self.event(test.fields)))
        let expected = test.fields["result"] as! String
        #expect(Self.same(resolved.text, expected), "\(resolved.text) is not \(expected)")
        if let type = test.fields["type"] as? String {
            #expect(resolved.type == type)
        }
    }

    @Test(arguments: try cases("apply"))
    func applyParams(_ test: Case) throws {
        let parameters = (test.fields["parameters"] as! [[String: Any]]).map { entry in
            let operation = entry["operation"] as! String
            return Self.parameter(
                entry["src"] as! [String: Any], dest: entry["dest"] as! String,
                operation: operation.isEmpty ? nil : operation)
        }
        let resource = try JSONParser.parse(test.fields["json"] as! String)
        let result = try SensorDispatch.apply(parameters, to: resource, events: Self.event(test.fields))
        let expected = try JSONParser.parse(test.fields["result"] as! String)
        #expect(Self.normalized(result) == Self.normalized(expected), "\(EventJSON.raw(result))")
    }

    /// The fixture holds every case the Go test file's resolve and apply tables have (15 + 2 and 7 + 1): a
    /// transcription that lost one fails here.
    @Test func everyCaseIsTranscribed() throws {
        #expect(try Self.cases("resolve").count == 17)
        #expect(try Self.cases("apply").count == 8)
    }
}

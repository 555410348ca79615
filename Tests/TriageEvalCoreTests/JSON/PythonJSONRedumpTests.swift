import Foundation
import Testing
import TriageEvalTestSupport

import TriageEvalCore

/// The one-pass `json.dumps(json.loads(…))`: the expected texts are CPython 3.11's own output for each input
/// (`python3 -c 'import json; print(json.dumps(json.loads(INPUT)))'`), and on every shipped webhook body the pass
/// must agree with the general path through the parsed value.
@Suite struct PythonJSONRedumpTests {
    static func redump(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBufferPointer { PythonJSONRedump.redump($0) }.map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test(arguments: [
        (#"{"a":1,"b":[true,false,null],"c":{}}"#, #"{"a": 1, "b": [true, false, null], "c": {}}"#),
        (
            #"{"s":"caf\u00e9 \u00E9 \ud83d\ude00 \uD83D\uDE00 \/ \" \\ \b\f\n\r\t \u0041 \u007f"}"#,
            #"{"s": "caf\u00e9 \u00e9 \ud83d\ude00 \ud83d\ude00 / \" \\ \b\f\n\r\t A \u007f"}"#
        ),
        (
            "[1.0,1e5,-0,-0.0,0.1,1E-7,123456789012345678901234567890,1.5e300,2.5E+2,1e400]",
            "[1.0, 100000.0, 0, -0.0, 0.1, 1e-07, 123456789012345678901234567890, 1.5e+300, 250.0, Infinity]"
        ),
        ("\"\u{7F}\u{2028}😀 café\"", #""\u007f\u2028\ud83d\ude00 caf\u00e9""#),
        (" [ ] ", "[]"),
        ("\t{ \"k\" :\r\n[ 1 , {\"x\":\"y\"} ] }\n", #"{"k": [1, {"x": "y"}]}"#),
    ])
    func writesWhatPythonWrites(input: String, python: String) {
        #expect(Self.redump(input) == python)
    }

    /// What only the general path may decide: a repeated key (Python keeps the last value at the first key's
    /// place), NaN and Infinity, lone surrogates (CPython reads them; the general path refuses them, as jiter
    /// does), integers over 4,300 digits, raw control characters, invalid UTF-8, malformed JSON, deep nesting.
    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, "[NaN]", "[Infinity]", "[-Infinity]", "\"a\u{01}b\"",
        #""\ud800""#, #""\ud800x""#, #""\ud800\u0041""#, #""\udc00""#, "[" + String(repeating: "7", count: 4_301) + "]",
        "[01]", "[1.]", "[1e]", "[-]", "{\"a\":1,}", "[1,]", "[1] x", "", "{\"a\" 1}", "tru",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
    ])
    func leavesTheHardCasesToTheGeneralPath(input: String) {
        #expect(Self.redump(input) == nil)
    }

    /// The cases above that the general path reads give the same text there.
    @Test func agreesWithTheGeneralPathOnTheHandPickedCases() throws {
        for input in [
            #"{"s":"\uD83D\uDE00 \u00E9"}"#, "[1e400, -0, 2.5E+2]", "[" + String(repeating: "7", count: 4_300) + "]",
        ] {
            #expect(Self.redump(input) == (try Planner.generalUserMessage(eventJSON: Array(input.utf8))))
        }
    }

    @Test func leavesInvalidUTF8ToTheGeneralPath() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(bytes.withUnsafeBufferPointer { PythonJSONRedump.redump($0) } == nil)
        }
    }

    /// Every webhook body the repository ships — the corpora, the real captures, the fuzz seeds — turned into its
    /// event and user message both ways.
    @Test func agreesWithTheGeneralPathOnEveryShippedBody() throws {
        var bodies: [[UInt8]] = []
        let root = Repository.path("corpora")
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".jsonl") }
            .filter { $0.contains("deliveries/") && !$0.hasSuffix(".headers.jsonl") }
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + file))
            bodies += data.split(separator: 0x0A).map(Array.init)
        }
        let seeds = Fixtures.path("fuzz/webhook")
        for name in try FileManager.default.contentsOfDirectory(atPath: seeds) {
            bodies.append(Array(try Data(contentsOf: URL(fileURLWithPath: seeds + "/" + name))))
        }
        #expect(bodies.count > 600)
        var fast = 0
        for body in bodies {
            let event = body.withUnsafeBufferPointer { DeliveryWriter.event(body: $0, incidentId: "inc-0123") }
            let general = try? Planner.generalUserMessage(eventJSON: event)
            let onePass = event.withUnsafeBufferPointer { PythonJSONRedump.redump($0) }
            if let onePass {
                fast += 1
                #expect(String(decoding: onePass, as: UTF8.self) == general)
            }
            #expect((try? Planner.userMessage(eventJSON: event)) == general)
        }
        #expect(fast > bodies.count * 9 / 10)
    }
}

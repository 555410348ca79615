import Testing
import TriageEvalCore

/// `Label.setDigest`: the SHA-256 of the corpus and of every label's stored columns, in incident order, each
/// written as its UTF-8 length, a colon and its bytes (`-` for none). Stores keep it, so its bytes never change.
@Suite struct LabelSetDigestTests {
    @Test func theDigestIsOfEveryColumnLengthPrefixedInIncidentOrder() {
        // A note of 12 characters in 13 bytes (é is two), a source of 105 bytes (three digits), a missing note.
        let longSource = "labels.yaml:" + String(repeating: "x", count: 93)
        let labels = [
            Label(
                incidentId: "inc-b", expect: .act,
                actions: [ExpectedAction(name: "restart_pods", params: ["namespace": .exact("shop")])],
                forbidden: ["rollback_release"], note: "café is down", source: "labels.yaml:7", byRule: true),
            Label(incidentId: "inc-a", expect: .human, actions: [], forbidden: [], note: nil, source: longSource),
        ]
        // Worked by hand: inc-a comes first; its lists are stored as `[]`, inc-b's as Python's json.dumps writes them.
        let actions = #"[{"name": "restart_pods", "params": {"namespace": "shop"}}]"#
        #expect(actions.utf8.count == 59)
        let expected =
            "5:bench"
            + "5:inc-a" + "5:human" + "2:[]" + "2:[]" + "2:[]" + "-" + "105:\(longSource)" + "8:incident"
            + "5:inc-b" + "3:act" + "59:\(actions)" + "2:[]" + #"20:["rollback_release"]"# + "13:café is down"
            + "13:labels.yaml:7" + "4:rule"
        #expect(Label.setDigest(labels, corpus: "bench") == Digest.sha256Hex(Array(expected.utf8)))
        // The order the labels come in does not matter.
        #expect(Label.setDigest(labels.reversed(), corpus: "bench") == Label.setDigest(labels, corpus: "bench"))
    }
}

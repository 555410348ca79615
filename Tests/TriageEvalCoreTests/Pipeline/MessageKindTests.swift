import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// The kind rule, on cases worked by hand (the order, ties and production time are the replay's, tested through
/// the binary in `PipelineReplayTests`), and the corpus's time scale.
@Suite struct MessageKindTests {
    @Test func kindsFollowTheDeliveryAndItsIncident() {
        // A resolved body is resolved whatever came before, with or without an incident.
        #expect(MessageKind(status: "resolved", deliverySeen: false, opensIncident: true) == .resolved)
        #expect(MessageKind(status: "resolved", deliverySeen: true, opensIncident: false) == .resolved)
        #expect(MessageKind(status: "resolved", deliverySeen: false, opensIncident: false) == .resolved)
        // The same bytes again are a repeat, even of the incident's only delivery.
        #expect(MessageKind(status: "firing", deliverySeen: true, opensIncident: false) == .repeat)
        // A new firing body opens its incident, or changes it.
        #expect(MessageKind(status: "firing", deliverySeen: false, opensIncident: true) == .first)
        #expect(MessageKind(status: "firing", deliverySeen: false, opensIncident: false) == .update)
    }

    @Test func aCorpusDeclaresItsTimeScale() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        #expect(try CorpusSettings.load(directory: temp.path).timeScale == 1)
        _ = try temp.write("corpus.yaml", "description: recorded fast\ntime_scale: 60\n")
        #expect(try CorpusSettings.load(directory: temp.path).timeScale == 60)
        _ = try temp.write("corpus.yaml", "time_scale: 0\n")
        #expect {
            try CorpusSettings.load(directory: temp.path)
        } throws: { error in
            "\(error.localizedDescription)".contains("corpus.yaml:1")
                && "\(error.localizedDescription)".contains("time_scale")
        }
        _ = try temp.write("corpus.yaml", "timescale: 60\n")
        #expect(throws: ConfigError.self) { try CorpusSettings.load(directory: temp.path) }
    }
}

import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// Message kinds and production time, on sightings written by hand.
@Suite struct MessageTimelineTests {
    static func sighting(
        _ delivery: Int64, at time: Double?, incident: String?, status: String = "firing", order: Int
    ) -> DeliverySighting {
        DeliverySighting(
            deliveryId: delivery, source: "f.jsonl:\(order + 1)", receivedAt: time, incidentId: incident,
            status: status, ingestOrder: order)
    }

    @Test func kindsFollowReceiveOrderNotFileOrder() throws {
        // File order: 1, 2, 1 (repeat), 3 (changed body), 4 (resolved), 5 (resolved, no incident).
        let sightings = [
            Self.sighting(1, at: 110, incident: "i", order: 0),
            Self.sighting(2, at: 100, incident: "i", order: 1),
            Self.sighting(1, at: 120, incident: "i", order: 2),
            Self.sighting(3, at: 130, incident: "i", order: 3),
            Self.sighting(4, at: 140, incident: "i", status: "resolved", order: 4),
            Self.sighting(5, at: 140, incident: nil, status: "resolved", order: 5),
        ]
        let messages = try MessageTimeline.messages(sightings, corpus: "c", timeScale: 10)
        // Delivery 2 arrived first, so it opens the incident; delivery 1 is then an update, its second sighting
        // a repeat. The two resolved messages at 140 keep their file order.
        #expect(messages.map(\.deliveryId) == [2, 1, 1, 3, 4, 5])
        #expect(messages.map(\.kind) == [.first, .update, .repeat, .update, .resolved, .resolved])
        #expect(messages.map(\.seq) == [0, 1, 2, 3, 4, 5])
        // Production time: 100 + (t - 100) × 10.
        #expect(messages.map(\.productionTime) == [100, 200, 300, 400, 500, 500])
        #expect(messages.map(\.receivedAt) == [100, 110, 120, 130, 140, 140])
        #expect(messages.last?.incidentId == nil)
    }

    @Test func aSightingWithoutAReceiveTimeIsNamed() {
        let sightings = [
            Self.sighting(1, at: 100, incident: "i", order: 0), Self.sighting(2, at: nil, incident: "i", order: 1),
        ]
        #expect(
            throws: PipelineError.noReceiveTimes(corpus: "c", missing: 1, total: 2, example: "f.jsonl:2")
        ) {
            try MessageTimeline.messages(sightings, corpus: "c", timeScale: 1)
        }
        #expect(throws: PipelineError.noMessages(corpus: "c")) {
            try MessageTimeline.messages([], corpus: "c", timeScale: 1)
        }
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

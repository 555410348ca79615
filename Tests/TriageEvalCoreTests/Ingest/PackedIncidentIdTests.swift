import Testing
import TriageEvalCore

/// `PackedIncidentId`: the ids ingest makes are numbers, one each; any other form is none.
@Suite struct PackedIncidentIdTests {
    @Test func anIngestIdIsItsHexDigitsAsANumber() {
        #expect(PackedIncidentId.value("inc-0123456789abcdef") == 0x0123_4567_89ab_cdef)
        #expect(PackedIncidentId.value("inc-0000000000000000") == 0)
        #expect(PackedIncidentId.value("inc-ffffffffffffffff") == UInt64.max)
        let made = DeliveryWriter.incidentId(receiver: "r", groupKey: "{}:{alertname=\"X\"}", startsAt: "t")
        let number = PackedIncidentId.value(made)
        #expect(number != nil)
        // The number spells the id back.
        let hex = String(number!, radix: 16)
        #expect("inc-" + String(repeating: "0", count: 16 - hex.count) + hex == made)
    }

    @Test(arguments: [
        "inc-0123456789ABCDEF",  // upper case: would share a number with its lower-case twin
        "inc-0123456789abcde",  // too short
        "inc-0123456789abcdef0",  // too long
        "inx-0123456789abcdef",  // another prefix
        "inc-0123456789abcdeg",  // not hex
        "", "incident-a",
    ])
    func anyOtherFormHasNoNumber(_ id: String) {
        #expect(PackedIncidentId.value(id) == nil)
    }

    /// `IncidentKey`: an ingest id is its number, any other id its text, and no two ids share a key.
    @Test func anIncidentKeyIsTheNumberOrElseTheText() {
        #expect(IncidentKey("inc-0123456789abcdef") == .packed(0x0123_4567_89ab_cdef))
        #expect(IncidentKey("inc-0123456789ABCDEF") == .text("inc-0123456789ABCDEF"))
        #expect(IncidentKey("inc-a") == .text("inc-a"))
        let ids = [
            "inc-0123456789abcdef", "inc-0123456789ABCDEF", "inc-0123456789abcdee", "inc-a", "INC-1", "",
        ]
        #expect(Set(ids.map(IncidentKey.init)).count == ids.count)
    }
}

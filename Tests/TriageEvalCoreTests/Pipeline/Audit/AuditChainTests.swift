import Foundation
import Testing
import TriageEvalCore

/// RFC 8785 canonical JSON and the hash chain, on values worked out elsewhere: the RFC's own number vectors
/// (Appendix B, IEEE 754 bit patterns, checked with Node's `Number.prototype.toString`), its key-order example
/// (section 3.2.3) and a chain whose hashes Python's hashlib computed.
@Suite struct AuditChainTests {
    @Test(
        arguments: [
            (0x0000_0000_0000_0000, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"), (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"), (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"), (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"), (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"), (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"), (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"), (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"), (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ] as [(UInt64, String)])
    func numbersAreWrittenAsECMAScriptWritesThem(bits: UInt64, expected: String) throws {
        #expect(CanonicalJSON.number(Double(bitPattern: bits)) == expected)
        #expect(try CanonicalJSON.string(.double(Double(bitPattern: bits))) == expected)
    }

    @Test func membersAreSortedByUTF16CodeUnitsAndStringsEscapedAsJSONStringifyDoes() throws {
        // RFC 8785 section 3.2.3: the keys sort as \r, 1, U+0080, ö, €, 😀 (a surrogate pair, D83D…), U+FB33.
        let value = JSONValue.object([
            ("\u{20ac}", .string("Euro Sign")), ("\r", .string("Carriage Return")),
            ("\u{fb33}", .string("Hebrew Letter Dalet With Dagesh")), ("1", .string("One")),
            ("\u{1F600}", .string("Emoji: Grinning Face")), ("\u{0080}", .string("Control")),
            ("\u{00f6}", .string("Latin Small Letter O With Diaeresis")),
        ])
        #expect(
            try CanonicalJSON.string(value)
                == "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\",\"ö\":"
                + "\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\","
                + "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}")
        // Node: JSON.stringify("a\u0000\u001f\"\\/\b\f\n\r\t\u2028é"); U+007F and U+2028 stay as they are.
        #expect(
            try CanonicalJSON.string(.string("a\u{0}\u{1f}\u{7f}\"\\/\u{8}\u{c}\n\r\t\u{2028}é"))
                == "\"a\\u0000\\u001f\u{7f}\\\"\\\\/\\b\\f\\n\\r\\t\u{2028}é\"")
        #expect(
            try CanonicalJSON.string(.array([.null, .bool(true), .integer("12"), .object([])])) == "[null,true,12,{}]")
        #expect(throws: CanonicalJSON.Failure.repeatedKey("a")) {
            try CanonicalJSON.string(.object([("a", .null), ("a", .null)]))
        }
        #expect(throws: CanonicalJSON.Failure.self) { try CanonicalJSON.string(.double(.nan)) }
    }

    /// A chain of three rows, whose hashes were computed with Python:
    /// `hashlib.sha256(prev + json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    /// .encode()).hexdigest()` from 32 zero bytes.
    static func chain() -> [AuditChain.Link] {
        var chain = AuditChain()
        return [
            chain.append(
                incidentId: "inc-a", action: "restart_pods", params: [("namespace", "shop"), ("selector", "app=cart")],
                result: "executed", createdAt: "2026-12-03T19:37:12.315Z"),
            chain.append(
                incidentId: "INC-1", action: "scale_up",
                params: [("namespace", "shop"), ("deployment", "cart"), ("replicas", "4")], result: "executed",
                createdAt: "2026-12-03T19:40:00.000Z"),
            chain.append(
                incidentId: "inc-b", action: "rollback_release", params: [("release", "orders-api \"v2\"")],
                result: "executed", createdAt: "2026-12-03T20:00:00.000Z"),
        ]
    }

    @Test func aChainHashesEachRowsCanonicalBytesAfterThePreviousHash() throws {
        let links = Self.chain()
        #expect(links.map(\.row.id) == [1, 2, 3])
        #expect(links[0].prevHash == [UInt8](repeating: 0, count: 32))
        #expect(
            String(decoding: links[0].rowBytes, as: UTF8.self)
                == #"{"action":"restart_pods","created_at":"2026-12-03T19:37:12.315Z","id":1,"incident_id":"inc-a","#
                + #""params":{"namespace":"shop","selector":"app=cart"},"result":"executed"}"#)
        #expect(
            links.map { Digest.hex($0.thisHash) } == [
                "883d6fe64aa703d1983a481cbc3a1637eff5609cc8cb4bb802f2db7de37fd689",
                "9fdbf81fe031a1fa3b7452db3d303fad145e8244130fb391b45999ca633dee90",
                "07fa9d9da716e40e15136e5bc6327353a019d24bbac859288c4adf58c624f8bf",
            ])
        #expect(links[1].prevHash == links[0].thisHash && links[2].prevHash == links[1].thisHash)
        // The row's own writer is the general canonicalization of its JSON, byte for byte, escapes and
        // UTF-16 key order included.
        let odd = AuditChain.Row(
            id: 12_345, incidentId: "a\"b\\c\u{1}", action: "é",
            params: [("\u{1F600}", "x"), ("\u{FB33}", "y"), ("Z", "\n"), ("a", "")], result: "ok",
            createdAt: "t")
        #expect(odd.canonicalBytes == (try CanonicalJSON.bytes(odd.json)))
        for link in links { #expect(link.row.canonicalBytes == (try CanonicalJSON.bytes(link.row.json))) }
        #expect(AuditChain.verify(links) == nil)
    }

    @Test func tamperingWithARowAHashOrTheOrderIsFoundAtTheFirstRowItBreaks() {
        let links = Self.chain()
        // A column edited after the row was written: its bytes no longer say it.
        var edited = links
        edited[1].row.action = "restart_pods"
        #expect(AuditChain.verify(edited) == AuditChain.Break(position: 1, id: 2, kind: .rowEdited))
        // The bytes edited together with the column: the hash no longer matches them.
        var rewritten = links
        rewritten[1].row.result = "failed"
        rewritten[1].rowBytes = rewritten[1].row.canonicalBytes!
        #expect(AuditChain.verify(rewritten) == AuditChain.Break(position: 1, id: 2, kind: .hashMismatch))
        // A hash edited: that row's hash is wrong.
        var hashed = links
        hashed[2].thisHash[0] ^= 1
        #expect(AuditChain.verify(hashed) == AuditChain.Break(position: 2, id: 3, kind: .hashMismatch))
        // A row rehashed whole (bytes and its own hash): the next row's link breaks.
        var relinked = links
        relinked[0].row.params = [("namespace", "kube-system"), ("selector", "app=cart")]
        relinked[0].rowBytes = relinked[0].row.canonicalBytes!
        relinked[0].thisHash = AuditChain.hash(prev: relinked[0].prevHash, rowBytes: relinked[0].rowBytes)
        #expect(AuditChain.verify(relinked) == AuditChain.Break(position: 1, id: 2, kind: .brokenLink))
        // Two rows swapped in the order read, or one removed.
        #expect(
            AuditChain.verify([links[1], links[0], links[2]])
                == AuditChain.Break(position: 0, id: 2, kind: .idOutOfOrder))
        #expect(AuditChain.verify([links[0], links[2]]) == AuditChain.Break(position: 1, id: 3, kind: .idOutOfOrder))
        // Ids renumbered after a removal: the renumbered row's bytes still say its old id.
        var renumbered = [links[0], links[2]]
        renumbered[1].row.id = 2
        #expect(AuditChain.verify(renumbered) == AuditChain.Break(position: 1, id: 2, kind: .rowEdited))
        // The first row's prev_hash must be the genesis.
        var genesis = links
        genesis[0].prevHash[31] = 1
        #expect(AuditChain.verify(genesis) == AuditChain.Break(position: 0, id: 1, kind: .brokenLink))
    }

    /// The verifier a report streams the chain through: every link counted, the last one's hash the head, the
    /// first break kept while the links after it are counted.
    @Test func theVerifierCountsEveryLinkAndKeepsTheFirstBreak() {
        let links = Self.chain()
        var whole = AuditChain.Verifier()
        #expect(whole.count == 0 && whole.head == nil)
        for link in links { whole.add(link) }
        #expect(whole.count == 3 && whole.firstBreak == nil && whole.head == links[2].thisHash)
        var hashed = links
        hashed[1].thisHash[0] ^= 1
        var broken = AuditChain.Verifier()
        for link in hashed { broken.add(link) }
        // Row 3's link breaks too (it names row 2's hash before the edit); the first break stays the one reported.
        #expect(broken.firstBreak == AuditChain.Break(position: 1, id: 2, kind: .hashMismatch))
        #expect(broken.count == 3 && broken.head == links[2].thisHash)
    }
}

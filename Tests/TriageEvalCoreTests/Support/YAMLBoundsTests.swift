import Foundation
import Testing
import TriageEvalCore

/// Rows 7 and 8 of issue 17's table: YAML nested thousands deep (a stack overflow in Yams' composer) and alias
/// bombs (gigabytes from 609 bytes) are refused before composing, with the line, for every YAML triage-eval reads.
@Suite struct YAMLBoundsTests {
    /// The classic "billion laughs": nine levels of nine aliases, 9^9 strings once expanded.
    static let aliasBomb = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    /// Worked by hand: the root mapping (1), its three keys (3), the list `[1, 2]` (1 + 2 = 3) and two aliases of
    /// it (3 each): 13 nodes.
    static let thirteenNodes = "a: &x [1, 2]\nb: *x\nc: *x\n"

    @Test func expandedNodesAreCountedAsWorkedByHand() {
        #expect(YAMLBounds.violation(in: Self.thirteenNodes, maximumNodes: 13) == nil)
        #expect(YAMLBounds.violation(in: Self.thirteenNodes, maximumNodes: 12)?.line == 3)
    }

    @Test func anAliasBombIsRefusedAtTheLineThatExplodes() {
        let violation = YAMLBounds.violation(in: Self.aliasBomb)
        // By hand: a's list is 10 nodes, b's 1 + 9 × 10 = 91, then 820, 7,381, 66,430 and f's 597,871; with
        // the keys and the root, 672,609 nodes by the end of line 6. The first *f on line 7 adds 597,871 more and
        // crosses a million.
        #expect(violation?.line == 7)
        #expect(violation?.message.contains("aliases are expanded") == true)
    }

    @Test func depthIsBoundedInFlowAndBlockStyle() {
        let flow = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(YAMLBounds.violation(in: flow)?.line == 1)
        // Block style, one level a line: the 101st mapping opens on line 101.
        let block = (0..<150).map { String(repeating: "  ", count: $0) + "k:" }.joined(separator: "\n") + " 1\n"
        #expect(YAMLBounds.violation(in: block)?.line == 101)
        let shallow = (0..<99).map { String(repeating: "  ", count: $0) + "k:" }.joined(separator: "\n") + " 1\n"
        #expect(YAMLBounds.violation(in: shallow) == nil)
    }

    /// Every reader applies the bounds: scenario and labels (through `YAMLReader`), catalogs (PyYAML's loader
    /// and the linter).
    @Test func everyReaderRefusesWithFileAndLine() throws {
        let deep = "model:\n  params: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(
            throws: ConfigError(
                file: "s.yaml", line: 2, keyPath: "", message: "nested deeper than 100 levels (the limit for YAML here)"
            )
        ) {
            _ = try YAMLReader.root(text: deep, file: "s.yaml")
        }
        #expect(throws: PyYAMLError.self) { _ = try PyYAMLLoader.load(Self.aliasBomb) }
        do {
            _ = try Catalog.parse(
                text: "actions: []\nx: " + String(repeating: "{a: ", count: 300), path: "c.yaml", format: "yaml")
            Issue.record("a deep catalog was accepted")
        } catch let error as CatalogError {
            #expect(error.localizedDescription.contains("c.yaml"))
            #expect(error.localizedDescription.contains("line 2: nested deeper than 100 levels"))
        }
    }
}

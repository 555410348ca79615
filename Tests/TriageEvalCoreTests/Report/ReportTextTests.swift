import Testing
import TriageEvalCore

/// Escaping of untrusted text, checked against hand-written expectations.
@Suite struct ReportTextTests {
    /// Every Unicode line break would end a Markdown table row or code span: all become a space (or `⏎` in a
    /// code span), CR LF included (one `Character` in Swift, two scalars).
    @Test func everyLineBreakIsNeutralisedInMarkdown() {
        let hostile = "a\r\nb\rc\nd\u{0B}e\u{0C}f\u{85}g\u{2028}h\u{2029}i"
        #expect(ReportText.markdown(hostile) == "a  b c d e f g h i")
        #expect(ReportText.escape(hostile, for: .markdownCode) == "a⏎⏎b⏎c⏎d⏎e⏎f⏎g⏎h⏎i")
    }

    @Test func markupCannotBeInjected() {
        #expect(ReportText.markdown("![x](http://e/) | # <b>") == "\\!\\[x\\](http\\://e/) \\| \\# \\<b\\>")
        // GitHub autolinks bare URLs, www. names and e-mail addresses: escaped `:` and `.`, and a word joiner
        // after `@` (cmark-gfm ignores escapes there), keep them text.
        #expect(ReportText.markdown("www.e.x a@b.c") == "www\\.e\\.x a@\u{2060}b\\.c")
        #expect(ReportText.escape("`a|b`", for: .markdownCode) == "ˋa\\|bˋ")
        #expect(ReportText.escape("", for: .markdownCode) == " ")
        #expect(ReportText.html("</pre><script>'\"&") == "&lt;/pre&gt;&lt;script&gt;&#39;&quot;&amp;")
        // Element content: quotes cannot end it, markup can.
        #expect(ReportText.htmlText("</pre><script>'\"&") == "&lt;/pre&gt;&lt;script&gt;'\"&amp;")
        // Nothing to escape: the same text back.
        #expect(ReportText.html("inc-0a13988bbc65196e") == "inc-0a13988bbc65196e")
        #expect(ReportText.xml("a\u{01}b\u{FFFE}<'>\t\n") == "ab&lt;&apos;&gt;\t\n")
    }

    @Test func numbersReadTheSameEverywhere() {
        #expect(ReportText.rate(Rate(47, of: 200)) == "23.5% (47 of 200; 95% CI 18.2–29.8%)")
        #expect(ReportText.rate(Rate(0, of: 0)) == "– (0 of 0)")
        #expect(ReportText.pValue(0) == "< 1e-300")
        #expect(ReportText.pValue(1.266e-08) == "= 1.266e-08")
        #expect(ReportText.threshold(0.7) == "0.7")
        #expect(ReportText.edge(0.25) == "0.25" && ReportText.edge(1) == "1.0")
    }
}

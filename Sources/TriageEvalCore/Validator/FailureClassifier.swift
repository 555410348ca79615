/// Tells apart the ways a reply can fail to be JSON.
///
/// The reply's JSON attempt starts at the text itself when it begins like a JSON value, else at the first `{`
/// after any opening prose or fence. Attempts are made in order:
/// - one that parses as a complete object means a valid object appears among other text: `wrapped`;
/// - one that runs off the end of the text means the text ends inside a value: `truncated`;
/// - one with a syntax error is skipped as a whole (to its matching bracket, strings respected), so that an
///   object nested inside broken JSON never counts as a wrapped reply, and the next `{` after it is tried;
/// - when nothing is left: `syntax`.
package enum FailureClassifier {
    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Classifies text that production's parser rejected: `empty`, `wrapped`, `truncated` or `syntax`.
    package static func classifyInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> FailureClass {
        guard let firstNonSpace = bytes.firstIndex(where: { !isJSONWhitespace($0) }) else { return .empty }
        var attempt: Int? = startsValue(bytes[firstNonSpace]) ? firstNonSpace : nextBrace(bytes, from: firstNonSpace)
        while let start = attempt {
            do {
                let end = try JSONParser.skipPrefix(bytes, at: start, options: .pydantic)
                if bytes[start] == UInt8(ascii: "{") { return .wrapped }
                attempt = nextBrace(bytes, from: end)
            } catch {
                if error.kind == .unexpectedEnd { return .truncated }
                guard let end = matchingClose(bytes, from: start) else { return .syntax }
                attempt = nextBrace(bytes, from: end)
            }
        }
        return .syntax
    }

    private static func nextBrace(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int? {
        guard index < bytes.count else { return nil }
        return bytes[index...].firstIndex(of: UInt8(ascii: "{"))
    }

    /// The offset just past the bracket that closes the one at `start` (or past a scalar's token), counting
    /// `{[` and `]}` outside double-quoted strings; nil when the text ends first.
    private static func matchingClose(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") else { return start + 1 }
        var depth = 0
        var inString = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
            }
            index += 1
        }
        return nil
    }

    private static func startsValue(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"),
            UInt8(ascii: "N"), UInt8(ascii: "I"):
            return true
        default:
            return false
        }
    }
}

/// Tells apart the ways a reply can fail to be JSON.
package enum FailureClassifier {
    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// How many embedded-object starts are tried before giving up on `wrapped` (bounds the work on hostile text).
    static let maximumCandidates = 256

    /// Classifies text that production's parser rejected: `empty`, `wrapped`, `truncated` or `syntax`.
    package static func classifyInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> FailureClass {
        guard let firstNonSpace = bytes.firstIndex(where: { !isJSONWhitespace($0) }) else { return .empty }
        // wrapped: some '{' starts a complete, valid JSON object (other text is around it, or the whole text
        // would have parsed).
        var candidates = 0
        var index = firstNonSpace
        var firstBrace: Int? = nil
        while index < bytes.count, candidates < maximumCandidates {
            if bytes[index] == UInt8(ascii: "{") {
                if firstBrace == nil { firstBrace = index }
                candidates += 1
                if let parsed = try? JSONParser.parsePrefix(bytes, at: index, options: .pydantic),
                    case .object = parsed.value
                {
                    return .wrapped
                }
            }
            index += 1
        }
        // truncated: the JSON attempt (the text itself when it starts like a value, else from the first '{' or
        // '[' after opening prose or a fence) runs off the end of the text.
        let start: Int?
        if startsValue(bytes[firstNonSpace]) {
            start = firstNonSpace
        } else {
            start = bytes[firstNonSpace...].firstIndex(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") })
        }
        if let start {
            do {
                _ = try JSONParser.parsePrefix(bytes, at: start, options: .pydantic)
            } catch {
                if error.kind == .unexpectedEnd { return .truncated }
            }
        }
        return .syntax
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

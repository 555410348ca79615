/// Writes a ``JSONValue`` exactly as CPython 3.11's `json.dumps` does with `ensure_ascii=True`.
///
/// Production builds its prompts with `json.dumps(CATALOG, indent=2)` and `json.dumps(event)`; a prompt that
/// differs by one byte is a different model input, so every rule of the encoder is reproduced: separators,
/// `\uXXXX` escapes with lowercase hex and surrogate pairs, `NaN`/`Infinity`, exact integers and floats as `repr`.
package enum PythonJSONEncoder {
    /// The layout of the output.
    package enum Layout: Sendable {
        /// `json.dumps(value)`: separators `", "` and `": "` on one line.
        case compact
        /// `json.dumps(value, indent: n)`: one member per line, separators `","` and `": "`.
        case indented(Int)
    }

    /// Encodes a value.
    /// - Parameters:
    ///   - value: the value.
    ///   - layout: the layout.
    /// - Returns: the UTF-8 bytes of the text (pure ASCII).
    package static func encode(_ value: JSONValue, layout: Layout = .compact) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(value, layout: layout, level: 0, to: &output)
        return output
    }

    /// Encodes a value to a string. See ``encode(_:layout:)``.
    package static func string(_ value: JSONValue, layout: Layout = .compact) -> String {
        String(decoding: encode(value, layout: layout), as: UTF8.self)
    }

    /// `json.dumps(list_of_strings)`, written without building a value first.
    package static func string(list: [String]) -> String {
        guard !list.isEmpty else { return "[]" }
        var output: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in list.enumerated() {
            if index > 0 { output.append(contentsOf: ", ".utf8) }
            writeString(element, to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return String(decoding: output, as: UTF8.self)
    }

    private static func newline(_ layout: Layout, level: Int, to output: inout [UInt8]) {
        guard case .indented(let width) = layout else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width * level))
    }

    private static func itemSeparator(_ layout: Layout, to output: inout [UInt8]) {
        output.append(UInt8(ascii: ","))
        if case .compact = layout { output.append(UInt8(ascii: " ")) }
    }

    private static func write(_ value: JSONValue, layout: Layout, level: Int, to output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let digits): output.append(contentsOf: digits.utf8)
        case .double(let number): output.append(contentsOf: pythonFloatRepr(number).utf8)
        case .string(let text): writeString(text, to: &output)
        case .array(let elements):
            if elements.isEmpty {
                output.append(contentsOf: "[]".utf8)
                return
            }
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { itemSeparator(layout, to: &output) }
                newline(layout, level: level + 1, to: &output)
                write(element, layout: layout, level: level + 1, to: &output)
            }
            newline(layout, level: level, to: &output)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                output.append(contentsOf: "{}".utf8)
                return
            }
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { itemSeparator(layout, to: &output) }
                newline(layout, level: level + 1, to: &output)
                writeString(member.key, to: &output)
                output.append(contentsOf: ": ".utf8)
                write(member.value, layout: layout, level: level + 1, to: &output)
            }
            newline(layout, level: level, to: &output)
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendEscape(_ unit: UInt16, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        output.append(UInt8(ascii: "u"))
        output.append(hexDigits[Int(unit >> 12)])
        output.append(hexDigits[Int((unit >> 8) & 0xF)])
        output.append(hexDigits[Int((unit >> 4) & 0xF)])
        output.append(hexDigits[Int(unit & 0xF)])
    }

    /// Writes a string as `json.dumps` with `ensure_ascii=True` does.
    package static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Printable ASCII other than quote and backslash is copied as it is; anything else goes through UTF-16.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for byte in bytes where byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            output.append(UInt8(ascii: "\""))
            return
        }
        for unit in text.utf16 {
            switch unit {
            case 0x22: output.append(contentsOf: [0x5C, 0x22])
            case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x20...0x7E: output.append(UInt8(unit))
            default: appendEscape(unit, to: &output)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Python's `repr(float)`: the shortest round-tripping digits, in exponent form when the decimal point would
    /// sit more than 16 places right or 4 places left of the first digit, else positional with at least `.0`.
    package static func pythonFloatRepr(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        if number == 0 { return number.sign == .minus ? "-0.0" : "0.0" }
        // Positional in both: Swift's description already is Python's repr (same shortest digits, `.0` kept).
        if number.magnitude >= 1e-4 && number.magnitude < 1e16 {
            let text = number.description
            if !text.utf8.contains(UInt8(ascii: "e")) { return text }
        }
        // Swift's description gives the shortest round-tripping digits; only the layout differs from Python's.
        var text = Substring(number.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let integerPart: Substring
        let fractionPart: Substring
        if let dot = text.firstIndex(of: ".") {
            integerPart = text[..<dot]
            fractionPart = text[text.index(after: dot)...]
        } else {
            integerPart = text
            fractionPart = ""
        }
        var digits = Array((integerPart + fractionPart).utf8)
        var decimalPoint = integerPart.count + exponent
        let leadingZeros = digits.prefix(while: { $0 == UInt8(ascii: "0") }).count
        digits.removeFirst(leadingZeros)
        decimalPoint -= leadingZeros
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let digitText = String(decoding: digits, as: UTF8.self)
        let sign = number.sign == .minus ? "-" : ""
        if decimalPoint > 16 || decimalPoint <= -4 {
            let exp = decimalPoint - 1
            let mantissa =
                digits.count > 1 ? "\(digitText.prefix(1)).\(digitText.dropFirst())" : digitText
            let expDigits = String(abs(exp))
            return "\(sign)\(mantissa)e\(exp < 0 ? "-" : "+")\(expDigits.count < 2 ? "0" + expDigits : expDigits)"
        }
        if decimalPoint <= 0 {
            return "\(sign)0.\(String(repeating: "0", count: -decimalPoint))\(digitText)"
        }
        if decimalPoint < digits.count {
            return "\(sign)\(digitText.prefix(decimalPoint)).\(digitText.dropFirst(decimalPoint))"
        }
        return "\(sign)\(digitText)\(String(repeating: "0", count: decimalPoint - digits.count)).0"
    }
}

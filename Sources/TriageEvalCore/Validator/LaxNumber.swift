import Foundation

/// pydantic-core's lax string coercions, byte for byte.
package enum LaxNumber {
    /// `str_as_float`: Rust's `f64::from_str` on the text trimmed of Unicode whitespace; failing that, on the
    /// untrimmed text with underscores removed, unless it starts or ends with `_` or has `__`.
    package static func pydanticFloat(_ text: String) -> Double? {
        if let number = rustF64(trimmed(text)) { return number }
        guard !text.hasPrefix("_"), !text.hasSuffix("_"), !text.contains("__"), text.contains("_") else {
            return nil
        }
        return rustF64(Substring(text.replacingOccurrences(of: "_", with: "")))
    }

    /// `str_as_bool`: exact spellings, ASCII case-insensitive, no trimming.
    package static func pydanticBool(_ text: String) -> Bool? {
        if text == "0" { return false }
        if text == "1" { return true }
        guard text.utf8.count <= 5, text.allSatisfy(\.isASCII) else { return nil }
        switch text.lowercased() {
        case "f", "n", "no", "off", "false": return false
        case "t", "y", "on", "yes", "true": return true
        default: return nil
        }
    }

    /// Rust's `char::is_whitespace` (the Unicode White_Space property).
    static func isRustWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func trimmed(_ text: String) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isRustWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isRustWhitespace($0) })!
        return Substring(scalars[first...last])
    }

    /// Rust's `f64::from_str`: `[+-]?` then `inf`, `infinity` or `nan` (any case), or decimal digits with an
    /// optional fraction (`5.`, `.5`) and exponent; correctly rounded.
    static func rustF64(_ text: Substring) -> Double? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        let rest = String(decoding: bytes[index...], as: UTF8.self).lowercased()
        if rest == "inf" || rest == "infinity" { return negative ? -.infinity : .infinity }
        if rest == "nan" { return .nan }
        let isDigit: (UInt8) -> Bool = { $0 &- UInt8(ascii: "0") < 10 }
        var integerDigits = 0
        while index < bytes.count, isDigit(bytes[index]) {
            index += 1
            integerDigits += 1
        }
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, isDigit(bytes[index]) {
                index += 1
                fractionDigits += 1
            }
        }
        guard integerDigits + fractionDigits > 0 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            var exponentDigits = 0
            while index < bytes.count, isDigit(bytes[index]) {
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == bytes.count else { return nil }
        // The grammar is checked; strtod (Swift's Double(String)) rounds it correctly. It wants a digit after '.'.
        var normalized = String(decoding: bytes, as: UTF8.self)
        if let dot = normalized.firstIndex(of: "."),
            normalized.index(after: dot) == normalized.endIndex || !normalized[normalized.index(after: dot)].isNumber
        {
            normalized.insert("0", at: normalized.index(after: dot))
        }
        return Double(normalized)
    }
}

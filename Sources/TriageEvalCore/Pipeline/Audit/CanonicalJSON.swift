/// The JSON Canonicalization Scheme (RFC 8785): the one byte string a JSON value has, so that a hash of it can be
/// checked by anyone who holds the value.
///
/// - Objects: members sorted by their keys' UTF-16 code units; a repeated key has no canonical form.
/// - Strings: `"` and `\` escaped, the control characters U+0000–U+001F as `\b \t \n \f \r` or `\u00xx`
///   (lowercase hex), everything else as its UTF-8 bytes (ECMAScript's `JSON.stringify`).
/// - Numbers: IEEE 754 doubles written as ECMAScript's `Number.prototype.toString` writes them (the shortest
///   digits that read back as the same double; `-0` as `0`); NaN and the infinities have no canonical form.
/// - No white space.
package enum CanonicalJSON {
    package enum Failure: Error, Equatable, CustomStringConvertible {
        case repeatedKey(String)
        case nonFinite(Double)

        package var description: String {
            switch self {
            case .repeatedKey(let key): return "the object repeats the key '\(key)'"
            case .nonFinite(let number): return "\(number) is not a JSON number"
            }
        }
    }

    /// The canonical bytes of a value.
    package static func bytes(_ value: JSONValue) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        try write(value, to: &output)
        return output
    }

    /// The canonical text of a value.
    package static func string(_ value: JSONValue) throws(Failure) -> String {
        String(decoding: try bytes(value), as: UTF8.self)
    }

    private static func write(_ value: JSONValue, to output: inout [UInt8]) throws(Failure) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .integer(let digits):
            // Numbers are doubles in JCS: an integer past 2^53 is written as the double it reads as.
            output += Array(number(Double(digits) ?? .nan).utf8)
        case .double(let number):
            guard number.isFinite else { throw .nonFinite(number) }
            output += Array(Self.number(number).utf8)
        case .string(let text): writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            let sorted = members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            output.append(UInt8(ascii: "{"))
            for (index, member) in sorted.enumerated() {
                if index > 0 {
                    guard sorted[index - 1].key != member.key else { throw .repeatedKey(member.key) }
                    output.append(UInt8(ascii: ","))
                }
                writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                try write(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20:
                output += Array("\\u00".utf8)
                output += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// A finite double as ECMAScript's `Number.prototype.toString(10)` writes it (ECMA-262, Number::toString).
    package static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value < 0 { return "-" + number(-value) }
        // Swift's description has the shortest digits that read back as the same double, as ECMAScript asks;
        // only its layout differs. value = 0.d₁d₂…d_k × 10^n, i.e. digits × 10^(n−k).
        let (digits, n) = decimal(value.description)
        let k = digits.count
        if k <= n && n <= 21 { return digits + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 {
            return String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        }
        if -6 < n && n <= 0 { return "0." + String(repeating: "0", count: -n) + digits }
        let exponent = n - 1
        let sign = exponent < 0 ? "-" : "+"
        let mantissa = k == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst())
        return mantissa + "e" + sign + String(abs(exponent))
    }

    /// The significant digits (no leading or trailing zeros) and decimal exponent n of a positive double's
    /// description (`12.5`, `1e-07`, `1.2345e+21`): value = 0.digits × 10^n.
    private static func decimal(_ text: String) -> (digits: String, n: Int) {
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0]
        let point = mantissa.firstIndex(of: ".")
        let integerPart = point.map { mantissa[..<$0] } ?? mantissa[...]
        let fraction = point.map { mantissa[mantissa.index(after: $0)...] } ?? ""
        var digits = Array(integerPart + fraction)
        var n = integerPart.count + exponent
        while let first = digits.first, first == "0" {
            digits.removeFirst()
            n -= 1
        }
        while let last = digits.last, last == "0" { digits.removeLast() }
        return (String(digits), n)
    }
}

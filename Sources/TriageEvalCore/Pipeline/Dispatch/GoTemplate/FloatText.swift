/// The shortest round-tripping decimal digits of a finite double, and the ways Go and pydantic lay them out.
///
/// Every layout below starts from the same digits (Swift's `description` gives the shortest digits that read back
/// as the same double, as Go's `strconv` and pydantic-core do); only where the decimal point goes and when an
/// exponent is used differ.
struct FloatText {
    /// The significant digits, without leading or trailing zeros (`"0"` for zero).
    var digits: [UInt8]
    /// Where the decimal point sits: the value is `0.digits × 10^point`.
    var point: Int
    var negative: Bool

    init(_ number: Double) {
        precondition(number.isFinite, "FloatText needs a finite number")
        negative = number.sign == .minus
        guard number != 0 else {
            digits = [UInt8(ascii: "0")]
            point = 1
            return
        }
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
        var all = Array((integerPart + fractionPart).utf8)
        var point = integerPart.count + exponent
        let leadingZeros = all.prefix(while: { $0 == UInt8(ascii: "0") }).count
        all.removeFirst(leadingZeros)
        point -= leadingZeros
        while all.last == UInt8(ascii: "0") { all.removeLast() }
        digits = all
        self.point = point
    }

    private var sign: String { negative ? "-" : "" }

    /// The digits in positional form, with at least `minimumFraction` fraction digits.
    func positional(minimumFraction: Int = 0) -> String {
        var output = sign
        if point <= 0 {
            output += "0."
            output += String(repeating: "0", count: -point)
            output += String(decoding: digits, as: UTF8.self)
        } else if point >= digits.count {
            output += String(decoding: digits, as: UTF8.self)
            output += String(repeating: "0", count: point - digits.count)
            if minimumFraction > 0 { output += "." + String(repeating: "0", count: minimumFraction) }
        } else {
            output += String(decoding: digits[..<point], as: UTF8.self)
            output += "."
            output += String(decoding: digits[point...], as: UTF8.self)
        }
        return output
    }

    /// The digits as `d.ddd` and an exponent written `e±` with at least `exponentDigits` digits, the `+` optional.
    func exponential(exponentDigits: Int, plus: Bool) -> String {
        let mantissa =
            digits.count > 1
            ? "\(Character(UnicodeScalar(digits[0]))).\(String(decoding: digits[1...], as: UTF8.self))"
            : String(decoding: digits, as: UTF8.self)
        let exponent = point - 1
        var exponentText = String(exponent.magnitude)
        while exponentText.count < exponentDigits { exponentText = "0" + exponentText }
        return "\(sign)\(mantissa)e\(exponent < 0 ? "-" : (plus ? "+" : ""))\(exponentText)"
    }

    /// Go's `%v` (`strconv.FormatFloat(v, 'g', -1, 64)`): an exponent when it is below -4 or at least 6, the
    /// precision shortest `%g` decides by — `1e+06`, `123456`, `1.234567e+06`, `0.0001`, `1e-05`.
    static func goDefault(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Inf" : "+Inf" }
        let text = FloatText(number)
        let exponent = text.point - 1
        if exponent < -4 || exponent >= 6 {
            return text.exponential(exponentDigits: 2, plus: true)
        }
        return text.positional()
    }

    /// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: always positional (gjson's `String()` of a non-integer number).
    static func goFixed(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Inf" : "+Inf" }
        return FloatText(number).positional()
    }

    /// `encoding/json`'s float: positional unless the magnitude is below 1e-6 or at least 1e21, then `1e-07` is
    /// written `1e-7`. Nil for a non-finite number (`json.Marshal` fails: "unsupported value").
    static func goJSON(_ number: Double) -> String? {
        guard number.isFinite else { return nil }
        let magnitude = number.magnitude
        let text = FloatText(number)
        if magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21) {
            return text.exponential(exponentDigits: 1, plus: true)
        }
        return text.positional()
    }

    /// pydantic-core's float in `model_dump_json()`: positional with at least `.0` while the exponent is in
    /// -5…15, else `1e+16` / `1e-7`; a non-finite float is `null` (pydantic's default `ser_json_inf_nan`).
    static func pydantic(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        let text = FloatText(number)
        let exponent = text.point - 1
        if number != 0 && (exponent < -5 || exponent >= 16) {
            return text.exponential(exponentDigits: 1, plus: true)
        }
        return text.positional(minimumFraction: 1)
    }
}

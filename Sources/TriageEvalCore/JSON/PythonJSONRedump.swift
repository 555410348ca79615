import Foundation

/// `json.dumps(json.loads(text))` in one pass over the bytes, without building a value: the fast path of
/// ``Planner/userMessage(eventJSON:)``, which turns every planned event into its user message.
///
/// It writes what ``PythonJSONEncoder`` writes for the value ``JSONParser`` reads with its `.python` options —
/// `", "` and `": "` separators, `ensure_ascii` escapes (lowercase hex, one `\uXXXX` per UTF-16 unit), integers as
/// their digits (`-0` as `0`), other numbers as `repr(float(text))` — and gives up (nil) on whatever needs the
/// general path's care: an object with a repeated key (Python keeps the last value at the first key's place),
/// `NaN` and `Infinity`, lone surrogates (which the general path refuses), integers over 4,300 digits, invalid
/// UTF-8, raw control characters, deep nesting, anything that is not JSON. The caller
/// then takes the general path, which gives the same text or the error.
package enum PythonJSONRedump {
    /// Nesting deeper than this takes the general path (and its depth limit).
    static let maxDepth = 256

    /// The `json.dumps(json.loads(…))` text of `bytes`, or nil when the general path must decide.
    package static func redump(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var scanner = Scanner(input: bytes)
        scanner.output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        scanner.skipSpace()
        guard scanner.value(depth: 0) else { return nil }
        scanner.skipSpace()
        guard scanner.index == bytes.count else { return nil }
        return scanner.output
    }

    private struct Scanner {
        let input: UnsafeBufferPointer<UInt8>
        var index = 0
        var output: [UInt8] = []

        init(input: UnsafeBufferPointer<UInt8>) {
            self.input = input
        }

        mutating func skipSpace() {
            while index < input.count {
                switch input[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> Bool {
            guard index < input.count, depth < PythonJSONRedump.maxDepth else { return false }
            switch input[index] {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return false
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard input.count - index >= count else { return false }
            for offset in 0..<count where input[index + offset] != word.utf8Start[offset] { return false }
            output.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: count))
            index += count
            return true
        }

        /// The keys of the objects being written, as ranges of `output` (their canonical form), innermost last:
        /// a repeated key is found by comparing bytes, with no copy per key.
        var keys: [Range<Int>] = []

        mutating func isRepeated(_ key: Range<Int>, since base: Int) -> Bool {
            output.withUnsafeBufferPointer { text in
                for earlier in keys[base...] where earlier.count == key.count {
                    if memcmp(text.baseAddress! + earlier.lowerBound, text.baseAddress! + key.lowerBound, key.count)
                        == 0
                    {
                        return true
                    }
                }
                return false
            }
        }

        mutating func separator(_ byte: UInt8) {
            output.append(byte)
            output.append(0x20)
        }

        /// Opens a container; true when it is empty, and so already closed.
        mutating func open(_ opening: UInt8, closing: UInt8) -> Bool {
            index += 1
            output.append(opening)
            skipSpace()
            guard index < input.count, input[index] == closing else { return false }
            index += 1
            output.append(closing)
            return true
        }

        enum Step { case more, closed, invalid }

        /// After a member or element: `, ` and another, or the container's end.
        mutating func step(closing: UInt8) -> Step {
            skipSpace()
            guard index < input.count else { return .invalid }
            switch input[index] {
            case UInt8(ascii: ","):
                index += 1
                separator(UInt8(ascii: ","))
                skipSpace()
                return .more
            case closing:
                index += 1
                output.append(closing)
                return .closed
            default:
                return .invalid
            }
        }

        mutating func object(depth: Int) -> Bool {
            if open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) { return true }
            let base = keys.count
            defer { keys.removeSubrange(base...) }
            while true {
                guard index < input.count, input[index] == UInt8(ascii: "\"") else { return false }
                let start = output.count
                guard string() else { return false }
                let key = start..<output.count
                // Many keys take the general path, whose index hashes them; a handful are compared one by one.
                if keys.count - base >= 64 || isRepeated(key, since: base) { return false }
                keys.append(key)
                skipSpace()
                guard index < input.count, input[index] == UInt8(ascii: ":") else { return false }
                index += 1
                separator(UInt8(ascii: ":"))
                skipSpace()
                guard value(depth: depth + 1) else { return false }
                switch step(closing: UInt8(ascii: "}")) {
                case .more: continue
                case .closed: return true
                case .invalid: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            if open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) { return true }
            while true {
                guard value(depth: depth + 1) else { return false }
                switch step(closing: UInt8(ascii: "]")) {
                case .more: continue
                case .closed: return true
                case .invalid: return false
                }
            }
        }

        static let hex: [UInt8] = Array("0123456789abcdef".utf8)

        mutating func backslash(_ byte: UInt8) {
            output.append(0x5C)
            output.append(byte)
        }

        mutating func escape(unit: UInt32) {
            switch unit {
            case 0x22: backslash(0x22)
            case 0x5C: backslash(0x5C)
            case 0x0A: backslash(UInt8(ascii: "n"))
            case 0x0D: backslash(UInt8(ascii: "r"))
            case 0x09: backslash(UInt8(ascii: "t"))
            case 0x08: backslash(UInt8(ascii: "b"))
            case 0x0C: backslash(UInt8(ascii: "f"))
            case 0x20...0x7E: output.append(UInt8(unit))
            default:
                backslash(UInt8(ascii: "u"))
                output.append(Self.hex[Int(unit >> 12 & 0xF)])
                output.append(Self.hex[Int(unit >> 8 & 0xF)])
                output.append(Self.hex[Int(unit >> 4 & 0xF)])
                output.append(Self.hex[Int(unit & 0xF)])
            }
        }

        mutating func hexValue(at position: Int) -> UInt32? {
            guard input.count - position >= 4 else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = input[position + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// A string, written as `json.dumps` writes the string `json.loads` reads from it. `\uXXXX` escapes and
        /// UTF-16 units map one to one between the two, so surrogates (paired or not) pass through as units.
        mutating func string() -> Bool {
            index += 1
            output.append(UInt8(ascii: "\""))
            while index < input.count {
                // A run of printable ASCII other than quote and backslash is copied in one go.
                let run = index
                while index < input.count {
                    let byte = input[index]
                    guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else {
                        break
                    }
                    index += 1
                }
                if index > run { output.append(contentsOf: UnsafeBufferPointer(rebasing: input[run..<index])) }
                guard index < input.count else { return false }
                let byte = input[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    output.append(byte)
                    return true
                case UInt8(ascii: "\\"):
                    guard index + 1 < input.count else { return false }
                    let kind = input[index + 1]
                    index += 2
                    switch kind {
                    case UInt8(ascii: "\""): escape(unit: 0x22)
                    case UInt8(ascii: "\\"): escape(unit: 0x5C)
                    case UInt8(ascii: "/"): output.append(UInt8(ascii: "/"))
                    case UInt8(ascii: "b"): escape(unit: 0x08)
                    case UInt8(ascii: "f"): escape(unit: 0x0C)
                    case UInt8(ascii: "n"): escape(unit: 0x0A)
                    case UInt8(ascii: "r"): escape(unit: 0x0D)
                    case UInt8(ascii: "t"): escape(unit: 0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hexValue(at: index) else { return false }
                        index += 4
                        switch unit {
                        case 0xD800..<0xDC00:
                            // A pair, or the general path's error (it refuses lone surrogates, as jiter does).
                            guard input.count - index >= 6, input[index] == UInt8(ascii: "\\"),
                                input[index + 1] == UInt8(ascii: "u"), let low = hexValue(at: index + 2),
                                (0xDC00..<0xE000).contains(low)
                            else { return false }
                            index += 6
                            escape(unit: unit)
                            escape(unit: low)
                        case 0xDC00..<0xE000:
                            return false
                        default:
                            escape(unit: unit)
                        }
                    default: return false
                    }
                case 0x00..<0x20:
                    return false
                case 0x20..<0x7F:
                    output.append(byte)
                    index += 1
                case 0x7F:  // DEL is outside ensure_ascii's printable range
                    escape(unit: 0x7F)
                    index += 1
                default:
                    guard let scalar = decodeUTF8() else { return false }
                    if scalar >= 0x10000 {
                        let value = scalar - 0x10000
                        escape(unit: 0xD800 + (value >> 10))
                        escape(unit: 0xDC00 + (value & 0x3FF))
                    } else {
                        escape(unit: scalar)
                    }
                }
            }
            return false
        }

        /// One UTF-8 sequence at `index` (its lead byte ≥ 0x80), strictly: no overlong forms, no surrogates.
        mutating func decodeUTF8() -> UInt32? {
            let lead = input[index]
            let count: Int
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: (count, scalar) = (2, UInt32(lead & 0x1F))
            case 0xE0...0xEF: (count, scalar) = (3, UInt32(lead & 0x0F))
            case 0xF0...0xF4: (count, scalar) = (4, UInt32(lead & 0x07))
            default: return nil
            }
            guard input.count - index >= count else { return nil }
            for offset in 1..<count {
                let byte = input[index + offset]
                guard byte & 0xC0 == 0x80 else { return nil }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            switch count {
            case 3 where scalar < 0x800 || (0xD800...0xDFFF).contains(scalar): return nil
            case 4 where scalar < 0x10000 || scalar > 0x10FFFF: return nil
            default: break
            }
            index += count
            return scalar
        }

        /// A number as Python's scanner reads it (`-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`): an integer's digits, or
        /// the `repr` of the float.
        mutating func number() -> Bool {
            let start = index
            if input[index] == UInt8(ascii: "-") { index += 1 }
            guard index < input.count else { return false }
            if input[index] == UInt8(ascii: "0") {
                index += 1
            } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(input[index]) {
                while index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) {
                    index += 1
                }
            } else {
                return false  // `-Infinity`, or not a number
            }
            var isInteger = true
            if index < input.count, input[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                let digits = index
                while index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) {
                    index += 1
                }
                guard index > digits else { return false }
            }
            if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                    index += 1
                }
                let digits = index
                while index < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index]) {
                    index += 1
                }
                guard index > digits else { return false }
            }
            let text = UnsafeBufferPointer(rebasing: input[start..<index])
            if isInteger {
                // Python refuses to read an integer of more than 4,300 digits: the general path says so.
                if text.count - (text[0] == UInt8(ascii: "-") ? 1 : 0) > 4_300 { return false }
                if text.count == 2, text[0] == UInt8(ascii: "-"), text[1] == UInt8(ascii: "0") {
                    output.append(UInt8(ascii: "0"))
                } else {
                    output.append(contentsOf: text)
                }
                return true
            }
            guard let number = Double(String(decoding: text, as: UTF8.self)) else { return false }
            output.append(contentsOf: PythonJSONEncoder.pythonFloatRepr(number).utf8)
            return true
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A JSON syntax error: where the text stopped being JSON, and whether it simply ended too early.
package struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Why parsing stopped.
    package enum Kind: String, Sendable, Equatable {
        /// The input ended inside a value (an open string, container, literal or number).
        case unexpectedEnd
        /// A byte that cannot appear where it does.
        case invalid
        /// Containers nested deeper than the parser's limit.
        case tooDeep
        /// An integer with more digits than the parser accepts.
        case numberTooLong
    }

    /// Why parsing stopped.
    package var kind: Kind
    /// The byte offset of the first byte that could not be accepted (the input's length for ``Kind/unexpectedEnd``).
    package var offset: Int
    /// A short human-readable reason.
    package var reason: String

    package var description: String { "\(reason) at byte \(offset)" }
}

/// A byte-level UTF-8 JSON parser whose dialect is configurable to match production's parsers exactly.
///
/// Two dialects matter: Python's `json.loads` (``Options/python``), which production uses for catalogs and
/// events, and jiter as pydantic 2 runs it for `model_validate_json` (``Options/pydantic``). Both accept the
/// literals `NaN`, `Infinity` and `-Infinity`, reject everything else JSON rejects, treat only space, tab, CR and LF
/// as whitespace, and keep integers exact.
package struct JSONParser {
    /// How repeated keys in one object are kept.
    package enum DuplicateKeys: Sendable {
        /// Python's `dict` semantics: the last value, at the position of the first occurrence.
        case lastWinsAtFirstPosition
        /// Every member, in input order (the validator applies its own rules).
        case keepAll
    }

    /// The dialect.
    package struct Options: Sendable {
        /// Accept `NaN`, `Infinity` and `-Infinity`.
        package var allowNonFinite: Bool
        /// The deepest a non-empty container may be nested (the outermost container is depth 1); `nil` for no limit.
        package var maxNonEmptyDepth: Int?
        /// The most digits an integer may have (CPython's `int` string-conversion limit is 4300).
        package var maxIntegerDigits: Int
        /// Whether a minus sign counts towards ``maxIntegerDigits``: jiter counts the integer's characters, so
        /// pydantic refuses `-` and 4300 digits, which CPython's `json.loads` accepts.
        package var integerLimitCountsSign = false
        /// How repeated keys are kept.
        package var duplicateKeys: DuplicateKeys
        /// Skip UTF-8 validation of strings, because the caller validated the whole input already.
        package var inputIsValidUTF8 = false

        /// Python 3.11 `json.loads`.
        package static let python = Options(
            allowNonFinite: true,
            maxNonEmptyDepth: 900,
            maxIntegerDigits: 4300,
            duplicateKeys: .lastWinsAtFirstPosition
        )
        /// pydantic 2.13 (jiter) as used by `model_validate_json`: recursion limit 200, members kept in order.
        package static let pydantic = Options(
            allowNonFinite: true,
            maxNonEmptyDepth: 200,
            maxIntegerDigits: 4300,
            integerLimitCountsSign: true,
            duplicateKeys: .keepAll
        )
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: Options
    /// The offset of the next byte to read.
    package private(set) var position = 0

    /// A cursor at the start of `bytes`, for walking a document without building all of it (see
    /// ``members(depth:_:)`` and ``skipValue(depth:)``).
    package init(bytes: UnsafeBufferPointer<UInt8>, options: Options) {
        self.bytes = bytes
        self.options = options
    }

    /// Parses one JSON text; whitespace may surround it, nothing else may follow it.
    /// - Parameters:
    ///   - bytes: UTF-8 text.
    ///   - options: the dialect.
    /// - Returns: the value.
    /// - Throws: ``JSONSyntaxError``.
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: Options = .python) throws(JSONSyntaxError)
        -> JSONValue
    {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw JSONSyntaxError(kind: .invalid, offset: parser.position, reason: "extra data after the JSON value")
        }
        return value
    }

    /// Parses one JSON text from a byte array. See ``parse(_:options:)-(UnsafeBufferPointer<UInt8>,_)``.
    package static func parse(_ bytes: [UInt8], options: Options = .python) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    /// Parses one JSON text from a string. See ``parse(_:options:)-(UnsafeBufferPointer<UInt8>,_)``.
    package static func parse(_ text: String, options: Options = .python) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONSyntaxError> = text.withUTF8 { buffer in
            Result { () throws(JSONSyntaxError) in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    /// Parses the longest JSON value that starts at `offset`, and returns it with the offset just past it.
    ///
    /// Used to find a JSON object embedded in prose. Leading whitespace is not skipped.
    package static func parsePrefix(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at offset: Int,
        options: Options
    ) throws(JSONSyntaxError) -> (value: JSONValue, end: Int) {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.position = offset
        let value = try parser.parseValue(depth: 0)
        return (value, parser.position)
    }

    /// Checks the longest JSON value that starts at `offset` without building it; returns the offset just past it.
    package static func skipPrefix(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at offset: Int,
        options: Options
    ) throws(JSONSyntaxError) -> Int {
        var parser = JSONParser(bytes: bytes, options: options)
        parser.position = offset
        try parser.skipValue(depth: 0)
        return parser.position
    }

    // MARK: - Cursor

    /// Whether the cursor is past the last byte.
    package var isAtEnd: Bool { position >= bytes.count }

    /// The next byte, if any.
    package var nextByte: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// A member's key as it appears in the input, compared without building a string when it has no escapes.
    package struct RawKey {
        fileprivate let bytes: UnsafeBufferPointer<UInt8>
        fileprivate let decoded: String?

        /// Whether the key is `text` (code point for code point, as Python compares keys).
        package func equals(_ text: StaticString) -> Bool {
            if let decoded { return JSONKey.same(decoded, text.description) }
            guard bytes.count == text.utf8CodeUnitCount else { return false }
            return memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0
        }

        /// The key as a string.
        package var string: String { decoded ?? String(decoding: bytes, as: UTF8.self) }
    }

    /// Walks the members of the object at the cursor; `body` must consume each value (parse or skip it).
    /// - Parameter depth: the object's nesting depth (1 for the outermost).
    package mutating func members(
        depth: Int,
        _ body: (String, inout JSONParser) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        try rawMembers(depth: depth) { key, cursor throws(JSONSyntaxError) in try body(key.string, &cursor) }
    }

    /// Walks the members of the object at the cursor, passing each key unbuilt (see ``RawKey``).
    /// - Parameter depth: the object's nesting depth (1 for the outermost).
    package mutating func rawMembers(
        depth: Int,
        _ body: (RawKey, inout JSONParser) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        guard try openContainer(UInt8(ascii: "{"), UInt8(ascii: "}"), "an object", depth: depth) else { return }
        while true {
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside an object") }
            guard bytes[position] == UInt8(ascii: "\"") else { throw fail(.invalid, "expected a key in double quotes") }
            let key = try rawKey()
            skipWhitespace()
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside an object") }
            guard bytes[position] == UInt8(ascii: ":") else { throw fail(.invalid, "expected ':' after a key") }
            position += 1
            skipWhitespace()
            try body(key, &self)
            skipWhitespace()
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside an object") }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                return
            default:
                throw fail(.invalid, "expected ',' or '}' in an object")
            }
        }
    }

    /// Reads a key: its raw bytes when it is plain (no escapes, and valid UTF-8), else its decoded text.
    private mutating func rawKey() throws(JSONSyntaxError) -> RawKey {
        let start = position + 1
        var index = Self.plainRun(bytes, from: start)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                if options.inputIsValidUTF8 || slice.allSatisfy({ $0 < 0x80 }) {
                    position = index + 1
                    return RawKey(bytes: slice, decoded: nil)
                }
                break
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        let decoded = try parseString()
        return RawKey(bytes: UnsafeBufferPointer(rebasing: bytes[start..<start]), decoded: decoded)
    }

    /// Walks the elements of the array at the cursor; `body` must consume each element.
    /// - Parameter depth: the array's nesting depth (1 for the outermost).
    package mutating func elements(
        depth: Int,
        _ body: (Int, inout JSONParser) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        guard try openContainer(UInt8(ascii: "["), UInt8(ascii: "]"), "an array", depth: depth) else { return }
        var index = 0
        while true {
            try body(index, &self)
            index += 1
            skipWhitespace()
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside an array") }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                return
            default:
                throw fail(.invalid, "expected ',' or ']' in an array")
            }
        }
    }

    /// Moves past a container's opening bracket; returns false (past the closing one too) when it is empty, and
    /// checks the depth limit, which applies to non-empty containers only (as in jiter).
    private mutating func openContainer(
        _ open: UInt8, _ close: UInt8, _ what: String, depth: Int
    ) throws(JSONSyntaxError) -> Bool {
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended where a value was expected") }
        guard bytes[position] == open else { throw fail(.invalid, "expected \(what)") }
        position += 1
        skipWhitespace()
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside \(what)") }
        if bytes[position] == close {
            position += 1
            return false
        }
        try checkDepth(depth)
        return true
    }

    /// Parses the value at the cursor.
    package mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        try parseValue(depth: depth)
    }

    /// Checks the value at the cursor and moves past it without building it.
    package mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended where a value was expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            try members(depth: depth + 1) { _, cursor throws(JSONSyntaxError) in try cursor.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            try elements(depth: depth + 1) { _, cursor throws(JSONSyntaxError) in try cursor.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""):
            try skipString()
        default:
            _ = try parseValue(depth: depth)
        }
    }

    /// Throws unless only whitespace is left.
    package mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if position != bytes.count {
            throw JSONSyntaxError(kind: .invalid, offset: position, reason: "extra data after the JSON value")
        }
    }

    private mutating func skipString() throws(JSONSyntaxError) {
        position += 1
        while position < bytes.count {
            position = Self.plainRun(bytes, from: position)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a string") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    _ = try unicodeEscape()
                default:
                    throw fail(.invalid, "invalid escape", at: position - 2)
                }
            default:
                if byte < 0x20 { throw fail(.invalid, "control character in a string") }
                position += 1
            }
        }
        throw fail(.unexpectedEnd, "input ended inside a string")
    }

    // MARK: - Grammar

    /// The offset of the first byte at or after `index` that ends a plain run of string content: a quote, a
    /// backslash or a control character (or the end). Eight bytes are tested at a time (SWAR).
    @inline(__always)
    private static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        guard let base = bytes.baseAddress else { return index }
        var index = index
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let hits =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if hits & highs != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
            index += 1
        }
        return index
    }

    /// Moves past JSON whitespace (space, tab, LF, CR).
    package mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private func fail(_ kind: JSONSyntaxError.Kind, _ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(kind: kind, offset: offset ?? position, reason: reason)
    }

    private func endOrInvalid(_ reason: String) -> JSONSyntaxError {
        position >= bytes.count ? fail(.unexpectedEnd, "input ended inside a value") : fail(.invalid, reason)
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended where a value was expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "N") where options.allowNonFinite:
            try expectLiteral("NaN")
            return .double(.nan)
        case UInt8(ascii: "I") where options.allowNonFinite:
            try expectLiteral("Infinity")
            return .double(.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw fail(.invalid, "expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let start = position
        let count = literal.utf8CodeUnitCount
        let expected = literal.utf8Start
        for index in 0..<count {
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a literal") }
            guard bytes[position] == expected[index] else {
                throw fail(.invalid, "invalid literal", at: start)
            }
            position += 1
        }
    }

    private func checkDepth(_ depth: Int) throws(JSONSyntaxError) {
        if let limit = options.maxNonEmptyDepth, depth > limit {
            throw fail(.tooDeep, "containers nested deeper than \(limit)")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        var seen = FirstOccurrenceIndex()
        let keepAll = options.duplicateKeys == .keepAll
        try rawMembers(depth: depth) { rawKey, cursor throws(JSONSyntaxError) in
            let key = rawKey.string
            let value = try cursor.parseValue(depth: depth)
            // Python's dict: a repeated key keeps its first position and takes the last value.
            if !keepAll, let existing = seen.position(of: key, count: members.count, keyAt: { members[$0].key }) {
                members[existing].value = value
            } else {
                members.append((key, value))
            }
        }
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        var elements: [JSONValue] = []
        try self.elements(depth: depth) { _, cursor throws(JSONSyntaxError) in
            elements.append(try cursor.parseValue(depth: depth))
        }
        return .array(elements)
    }

    /// Scans a number's grammar from the cursor (on `-` or a digit), leaving the cursor after it. Returns nil
    /// when it was `-Infinity` (already consumed), else whether it has a fraction or exponent and how many
    /// integer digits it has (with the sign, when ``Options/integerLimitCountsSign`` says so).
    private mutating func scanNumber() throws(JSONSyntaxError) -> (isFloat: Bool, integerDigits: Int)? {
        var isFloat = false
        let numberStart = position
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a number") }
            if options.allowNonFinite && bytes[position] == UInt8(ascii: "I") {
                try expectLiteral("Infinity")
                return nil
            }
        }
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a number") }
        let integerStart = position
        switch bytes[position] {
        case UInt8(ascii: "0"):
            position += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            position += 1
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        default:
            throw fail(.invalid, "expected a digit")
        }
        let integerDigits = position - (options.integerLimitCountsSign ? numberStart : integerStart)
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isFloat = true
            position += 1
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a number") }
            guard isDigit(bytes[position]) else { throw fail(.invalid, "expected a digit after '.'") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isFloat = true
            position += 1
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a number") }
            if bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a number") }
            guard isDigit(bytes[position]) else { throw fail(.invalid, "expected a digit in the exponent") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        return (isFloat, integerDigits)
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = position
        guard let (isFloat, integerDigits) = try scanNumber() else { return .double(-.infinity) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isFloat {
            // Swift's Double(String) is strtod: correctly rounded, overflow to ±inf, underflow to ±0, as CPython.
            return .double(Double(text) ?? .nan)
        }
        if integerDigits > options.maxIntegerDigits {
            throw fail(.numberTooLong, "integer has more than \(options.maxIntegerDigits) digits", at: start)
        }
        return .integer(text == "-0" ? "0" : text)
    }

    /// The number at the cursor as a double (an integer converted as pydantic converts it for a float field),
    /// without building a value; nil when the cursor is not on a plain number followed by another byte.
    package mutating func numberAsDouble() throws(JSONSyntaxError) -> Double? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "-") || isDigit(bytes[position]) else {
            return nil
        }
        let start = position
        guard let (isFloat, integerDigits) = try scanNumber() else { return -.infinity }
        if integerDigits > options.maxIntegerDigits {
            throw fail(.numberTooLong, "integer has more than \(options.maxIntegerDigits) digits", at: start)
        }
        // strtod stops at the byte after the number, which must exist so that it never reads past the input;
        // it is correctly rounded like CPython's float(), and triage-eval never changes the C locale it reads.
        guard position < bytes.count, JSONParser.decimalPointIsDot else { return nil }
        let number = bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { base in
            strtod(base + start, nil)
        }
        // An integer has no negative zero: `-0` is the int 0, which float() makes 0.0 (strtod would give -0.0).
        // Found by scripts/fuzz (the fast path and the general path disagreed on `"confidence": -0`).
        return !isFloat && number == 0 ? 0 : number
    }

    /// Whether the process's numeric locale is C's (so `strtod` reads `.` as the decimal point).
    private static let decimalPointIsDot: Bool = {
        guard let conventions = localeconv(), let point = conventions.pointee.decimal_point else { return false }
        return String(cString: point) == "."
    }()

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Parses the string at the cursor (which is on its opening quote).
    package mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes.
        position = Self.plainRun(bytes, from: position)
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if options.inputIsValidUTF8 { return String(decoding: slice, as: UTF8.self) }
                guard let text = String(validating: slice, as: UTF8.self) else {
                    throw fail(.invalid, "invalid UTF-8 in a string", at: start)
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.invalid, "control character in a string") }
            position += 1
        }
        guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a string") }
        // Slow path: decode escapes into a byte buffer.
        var buffer = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw fail(.invalid, "invalid UTF-8 in a string", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a string") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try unicodeEscape()
                    appendUTF8(scalar, to: &buffer)
                default:
                    throw fail(.invalid, "invalid escape", at: position - 2)
                }
            default:
                if byte < 0x20 { throw fail(.invalid, "control character in a string") }
                buffer.append(byte)
                position += 1
            }
        }
        throw fail(.unexpectedEnd, "input ended inside a string")
    }

    /// Reads the rest of a `\\u` escape (the cursor is after the `u`), joining a surrogate pair; lone surrogates
    /// are errors, as in jiter (CPython's `json` would accept them, but no event or catalog has one).
    private mutating func unicodeEscape() throws(JSONSyntaxError) -> UInt32 {
        let escapeStart = position - 2
        var scalar = try parseHex4()
        if scalar >= 0xD800 && scalar < 0xDC00 {
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a string") }
            guard bytes[position] == UInt8(ascii: "\\") else {
                throw fail(.invalid, "lone high surrogate", at: escapeStart)
            }
            guard position + 1 < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a string") }
            guard bytes[position + 1] == UInt8(ascii: "u") else {
                throw fail(.invalid, "lone high surrogate", at: escapeStart)
            }
            position += 2
            let low = try parseHex4()
            guard low >= 0xDC00 && low < 0xE000 else {
                throw fail(.invalid, "high surrogate not followed by a low surrogate", at: escapeStart)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if scalar >= 0xDC00 && scalar < 0xE000 {
            throw fail(.invalid, "lone low surrogate", at: escapeStart)
        }
        return scalar
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw fail(.unexpectedEnd, "input ended inside a \\u escape") }
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail(.invalid, "invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | (scalar >> 6)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | (scalar >> 12)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | (scalar >> 18)))
            buffer.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}

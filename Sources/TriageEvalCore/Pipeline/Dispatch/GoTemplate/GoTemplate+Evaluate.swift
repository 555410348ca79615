extension GoTemplate {
    /// Executes pipelines with `text/template`'s rules (`exec.go`): fields of a map are looked up by key (a
    /// missing key is no value), a field of nil fails, arguments are checked against each function's Go types.
    struct Evaluator {
        let root: GoValue

        func evaluate(_ pipeline: Pipeline, dot: GoValue) throws(GoTemplateError) -> GoValue {
            var value: GoValue?
            for command in pipeline.commands {
                value = try evaluate(command, dot: dot, piped: value)
                // Go unwraps each command's interface{} result, so a nil one is no value at all.
                if case .null = value { value = .missing }
            }
            return value ?? .missing
        }

        private func evaluate(_ command: Command, dot: GoValue, piped: GoValue?) throws(GoTemplateError) -> GoValue {
            let first = command.operands[0]
            if case .function(let name) = first {
                var arguments: [GoValue] = []
                for operand in command.operands.dropFirst() { arguments.append(try value(of: operand, dot: dot)) }
                if let piped { arguments.append(piped) }
                return try call(name, arguments)
            }
            guard piped == nil else { throw .syntax("non executable command in pipeline stage") }
            return try value(of: first, dot: dot)
        }

        private func value(of operand: Operand, dot: GoValue) throws(GoTemplateError) -> GoValue {
            switch operand {
            case .field(let fields): return try walk(dot, fields)
            case .variable(let fields): return try walk(root, fields)
            case .string(let text): return .string(text)
            case .number(let number): return number.integer.map(GoValue.int) ?? .float(number.float)
            case .bool(let flag): return .bool(flag)
            case .null: throw .execution("nil is not a command")
            case .function(let name): return try call(name, [])
            case .chain(let pipeline, let fields):
                var start = try evaluate(pipeline, dot: dot)
                if case .missing = start, !fields.isEmpty { start = .missing }
                return try walk(start, fields)
            }
        }

        /// `receiver.a.b`: a map's key (missing: no value), a field of no value stays no value, a field of nil or
        /// of anything but a map fails.
        private func walk(_ receiver: GoValue, _ fields: [String]) throws(GoTemplateError) -> GoValue {
            var current = receiver
            for field in fields {
                switch current {
                case .missing: return .missing
                case .null: throw .execution("nil pointer evaluating interface {}.\(field)")
                case .map(let map): current = map[field] ?? .missing
                default: throw .execution("can't evaluate field \(field) in type \(current.typeName)")
                }
            }
            return current
        }

        /// A Go `string` parameter: a string, or an interface{} holding one.
        private func string(_ value: GoValue, _ function: String) throws(GoTemplateError) -> String {
            switch value {
            case .string(let text): return text
            case .missing: throw .execution("error calling \(function): invalid value; expected string")
            default:
                throw .execution("wrong type for value; expected string; got \(value.typeName)")
            }
        }

        private func arity(_ name: String, _ arguments: [GoValue], _ count: Int) throws(GoTemplateError) {
            guard arguments.count == count else {
                throw .execution("wrong number of args for \(name): want \(count) got \(arguments.count)")
            }
        }

        /// A nil interface{} for an interface{} parameter given no value (Go's `validateType`).
        private func interface(_ value: GoValue) -> GoValue {
            if case .missing = value { return .null }
            return value
        }

        private func call(_ name: String, _ arguments: [GoValue]) throws(GoTemplateError) -> GoValue {
            switch name {
            case "index":
                guard let item = arguments.first else {
                    throw .execution("wrong number of args for index: want at least 1 got 0")
                }
                var current = interface(item)
                for index in arguments.dropFirst() {
                    switch current {
                    case .null, .missing: throw .execution("error calling index: index of untyped nil")
                    case .map(let map):
                        guard case .string(let key) = index else {
                            throw .execution(
                                "error calling index: value has type \(index.typeName); should be string")
                        }
                        current = map[key] ?? .null
                    case .array(let elements):
                        guard case .int(let position) = index else {
                            throw .execution(
                                "error calling index: cannot index slice/array with type \(index.typeName)")
                        }
                        guard position >= 0, position < elements.count else {
                            throw .execution("error calling index: index out of range: \(position)")
                        }
                        current = elements[position]
                    case .string(let text):
                        guard case .int(let position) = index else {
                            throw .execution(
                                "error calling index: cannot index slice/array with type \(index.typeName)")
                        }
                        let bytes = Array(text.utf8)
                        guard position >= 0, position < bytes.count else {
                            throw .execution("error calling index: index out of range: \(position)")
                        }
                        current = .int(Int(bytes[position]))
                    default:
                        throw .execution("error calling index: can't index item of type \(current.typeName)")
                    }
                }
                return current
            case "default":
                guard arguments.count == 1 || arguments.count == 2 else {
                    throw .execution("wrong number of args for default: want 1 or 2 got \(arguments.count)")
                }
                if arguments.count == 1 { return interface(arguments[0]) }
                return arguments[1].isEmpty ? interface(arguments[0]) : arguments[1]
            case "quote":
                // sprig: each non-nil argument as strconv.Quote(fmt.Sprint(it)), joined by spaces.
                let quoted = arguments.compactMap { argument -> String? in
                    switch argument {
                    case .missing, .null: return nil
                    default: return GoQuote.quote(argument.printed)
                    }
                }
                return .string(quoted.joined(separator: " "))
            case "lower":
                try arity(name, arguments, 1)
                return .string(GoStrings.lower(try string(arguments[0], name)))
            case "upper":
                try arity(name, arguments, 1)
                return .string(GoStrings.upper(try string(arguments[0], name)))
            case "trim":
                try arity(name, arguments, 1)
                return .string(GoStrings.trimSpace(try string(arguments[0], name)))
            case "replace":
                try arity(name, arguments, 3)
                let old = try string(arguments[0], name)
                let new = try string(arguments[1], name)
                return .string(GoStrings.replace(try string(arguments[2], name), old, new))
            case "trimPrefix":
                try arity(name, arguments, 2)
                let prefix = try string(arguments[0], name)
                let text = try string(arguments[1], name)
                return .string(
                    text.utf8.starts(with: prefix.utf8)
                        ? String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self) : text)
            case "trimSuffix":
                try arity(name, arguments, 2)
                let suffix = try string(arguments[0], name)
                let text = try string(arguments[1], name)
                let bytes = Array(text.utf8)
                let tail = Array(suffix.utf8)
                guard bytes.count >= tail.count, Array(bytes.suffix(tail.count)) == tail else { return .string(text) }
                return .string(String(decoding: bytes.dropLast(tail.count), as: UTF8.self))
            case "toJson":
                try arity(name, arguments, 1)
                // sprig ignores json.Marshal's error: an unencodable value is the empty string.
                return .string(interface(arguments[0]).goJSON ?? "")
            default:
                throw .unsupported("function \"\(name)\" is not supported")
            }
        }
    }
}

/// Go's `strings` functions on UTF-8 text, as the sprig functions call them.
enum GoStrings {
    /// `strings.TrimSpace`: Unicode white space at both ends.
    static func trimSpace(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, isSpace(scalars[start]) { start += 1 }
        while end > start, isSpace(scalars[end - 1]) { end -= 1 }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[start..<end])
        return result
    }

    /// `unicode.IsSpace`.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0: return true
        default: return scalar.value > 0xFF && scalar.properties.isWhitespace
        }
    }

    /// `strings.Replace(text, old, new, -1)`; an empty `old` inserts `new` before every scalar and at the end.
    static func replace(_ text: String, _ old: String, _ new: String) -> String {
        if old.isEmpty {
            var result = new
            for scalar in text.unicodeScalars {
                result.unicodeScalars.append(scalar)
                result += new
            }
            return result
        }
        let bytes = Array(text.utf8)
        let pattern = Array(old.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if index + pattern.count <= bytes.count, Array(bytes[index..<index + pattern.count]) == pattern {
                output += Array(new.utf8)
                index += pattern.count
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `strings.ToLower`: Unicode simple lower-casing, scalar by scalar.
    static func lower(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            let mapped = scalar.properties.lowercaseMapping
            result += mapped.unicodeScalars.count == 1 ? mapped : String(scalar)
        }
        return result
    }

    /// `strings.ToUpper`: Unicode simple upper-casing, scalar by scalar.
    static func upper(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            let mapped = scalar.properties.uppercaseMapping
            result += mapped.unicodeScalars.count == 1 ? mapped : String(scalar)
        }
        return result
    }
}

/// Go's `strconv.Quote`: printable characters kept, the rest escaped (`\a \b \f \n \r \t \v`, `\xNN` below
/// U+0080, `\uNNNN`, `\UNNNNNNNN`).
enum GoQuote {
    static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{07}": output += "\\a"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{0B}": output += "\\v"
            default:
                if isPrintable(scalar) {
                    output.unicodeScalars.append(scalar)
                } else if scalar.value < 0x80 {
                    output += "\\x" + hex(scalar.value, 2)
                } else if scalar.value < 0x10000 {
                    output += "\\u" + hex(scalar.value, 4)
                } else {
                    output += "\\U" + hex(scalar.value, 8)
                }
            }
        }
        return output + "\""
    }

    private static func hex(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `strconv.IsPrint`, approximately: letters, marks, numbers, punctuation, symbols and the ASCII space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}

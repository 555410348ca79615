import Foundation

/// The part of Go's `text/template` (with the sprig functions Sensors use) that an Argo Events `dataTemplate`
/// needs, with Go's rules for what prints, what is missing and what fails.
///
/// A Sensor executes a parameter's `dataTemplate` over `{"Input": <event data>}`, the data as gjson's `Value()`
/// gives it: objects as `map[string]interface{}`, arrays as `[]interface{}`, every number a `float64`
/// (`sensors/triggers/params.go`, `getValueWithTemplate`). Supported: text and actions with `{{-`/`-}}` trimming
/// and comments; field chains from `.` and `$` (also on a parenthesized pipeline); string, raw-string, number,
/// boolean and `nil` literals; function calls and pipelines; the functions `index`, `default`, `quote`, `lower`,
/// `upper`, `replace`, `trim`, `trimPrefix`, `trimSuffix` and `toJson`. Everything else Go accepts — `if`,
/// `range`, `with`, variables, `printf`, any other sprig function — is refused with an error naming it, so a
/// template triage-eval cannot evaluate exactly is never guessed at.
package struct GoTemplate: Sendable {
    /// The template's source.
    package let source: String
    let nodes: [Node]

    /// Parses a template.
    /// - Throws: ``GoTemplateError`` with Go's wording for what Go rejects (`bad character U+005B '['`), or
    ///   naming the construct triage-eval does not support.
    package init(_ source: String) throws(GoTemplateError) {
        self.source = source
        var parser = Parser(source)
        nodes = try parser.parse()
    }

    /// Executes the template over `{"Input": input}`.
    /// - Returns: the text written; Go's `<no value>` where a missing value is printed.
    /// - Throws: ``GoTemplateError`` for what makes Go's `Execute` fail (a nil pointer, a wrong argument type,
    ///   an index out of range).
    package func execute(input: GoValue) throws(GoTemplateError) -> String {
        let root = GoValue.map(["Input": input])
        var output = ""
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .action(let pipeline):
                output += try Evaluator(root: root).evaluate(pipeline, dot: root).printed
            }
        }
        return output
    }

    /// The field chains the template reads from the input (`.Input.body.actions` → `["body", "actions"]`, and
    /// `(index .Input.body.actions 0).name` → `["body", "actions", "0", "name"]`), for lint.
    package var inputPaths: [[String]] {
        var paths: [[String]] = []
        for node in nodes {
            if case .action(let pipeline) = node { Self.collect(pipeline, into: &paths) }
        }
        return paths
    }

    private static func collect(_ pipeline: Pipeline, into paths: inout [[String]]) {
        for command in pipeline.commands {
            var operands = command.operands[...]
            // `index X a b`: X's path followed by the literal indices.
            if case .function("index") = command.operands.first, command.operands.count >= 2,
                let base = path(command.operands[1])
            {
                var full = base
                for operand in command.operands.dropFirst(2) {
                    switch operand {
                    case .string(let key): full.append(key)
                    case .number(let number): full.append(number.text)
                    default: break
                    }
                }
                paths.append(full)
                operands = command.operands.dropFirst(2)
            }
            for operand in operands {
                if case .chain(let inner, let fields) = operand {
                    let before = paths.count
                    collect(inner, into: &paths)
                    // The chain's fields extend what its pipeline read last.
                    if paths.count > before, let last = paths.last { paths[paths.count - 1] = last + fields }
                } else if let path = path(operand) {
                    paths.append(path)
                }
            }
        }
    }

    private static func path(_ operand: Operand) -> [String]? {
        switch operand {
        case .field(let fields) where fields.first == "Input": return Array(fields.dropFirst())
        case .variable(let fields) where fields.first == "Input": return Array(fields.dropFirst())
        default: return nil
        }
    }
}

/// Why a template cannot be parsed or executed.
package struct GoTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// Go's parser rejects it.
        case syntax
        /// Go accepts it but triage-eval does not evaluate it.
        case unsupported
        /// Go's `Execute` fails.
        case execution
    }

    package var kind: Kind
    package var message: String

    package var description: String { message }

    package init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    static func syntax(_ message: String) -> GoTemplateError { GoTemplateError(kind: .syntax, message: message) }
    static func unsupported(_ message: String) -> GoTemplateError {
        GoTemplateError(kind: .unsupported, message: message)
    }
    static func execution(_ message: String) -> GoTemplateError {
        GoTemplateError(kind: .execution, message: message)
    }
}

// MARK: - Syntax

extension GoTemplate {
    enum Node: Sendable {
        case text(String)
        case action(Pipeline)
    }

    struct Pipeline: Sendable {
        var commands: [Command]
    }

    struct Command: Sendable {
        var operands: [Operand]
    }

    /// A number literal: Go keeps an integer constant an `int` and anything else a `float64`.
    struct Number: Sendable {
        var text: String
        var integer: Int?
        var float: Double
    }

    indirect enum Operand: Sendable {
        /// `.` (empty) or `.A.b`.
        case field([String])
        /// `$` (empty) or `$.A.b`.
        case variable([String])
        case string(String)
        case number(Number)
        case bool(Bool)
        case null
        case function(String)
        /// `(pipeline)` followed by zero or more fields.
        case chain(Pipeline, [String])
    }

    /// The functions evaluated; Go and sprig have many more, each refused by name.
    static let functions: Set<String> = [
        "index", "default", "quote", "lower", "upper", "replace", "trim", "trimPrefix", "trimSuffix", "toJson",
    ]

    static let keywords: Set<String> = [
        "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    ]

    struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ source: String) {
            scalars = Array(source.unicodeScalars)
        }

        mutating func parse() throws(GoTemplateError) -> [Node] {
            var nodes: [Node] = []
            var text = ""
            while position < scalars.count {
                if starts(with: "{{") {
                    // `{{- ` trims the whitespace before it (a `-` needs a space after it to be a trim marker).
                    var trimLeft = false
                    if position + 3 < scalars.count, scalars[position + 2] == "-", isSpace(scalars[position + 3]) {
                        trimLeft = true
                    }
                    if trimLeft {
                        while let last = text.unicodeScalars.last, isSpace(last) {
                            text.unicodeScalars.removeLast()
                        }
                    }
                    if !text.isEmpty { nodes.append(.text(text)) }
                    text = ""
                    position += trimLeft ? 4 : 2
                    let (pipeline, trimRight) = try action()
                    if let pipeline { nodes.append(.action(pipeline)) }
                    if trimRight {
                        while position < scalars.count, isSpace(scalars[position]) { position += 1 }
                    }
                } else {
                    text.unicodeScalars.append(scalars[position])
                    position += 1
                }
            }
            if !text.isEmpty { nodes.append(.text(text)) }
            return nodes
        }

        private func starts(with marker: String) -> Bool {
            var index = position
            for scalar in marker.unicodeScalars {
                guard index < scalars.count, scalars[index] == scalar else { return false }
                index += 1
            }
            return true
        }

        private func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
        }

        private mutating func skipSpaces() {
            while position < scalars.count, isSpace(scalars[position]) { position += 1 }
        }

        /// Whether the action ends here (` -}}` or `}}`), consuming the end; the flag says whether it trims.
        private mutating func actionEnd() -> Bool? {
            if position + 3 < scalars.count + 1, starts(with: "-}}"), position > 0, isSpace(scalars[position - 1]) {
                position += 3
                return true
            }
            if starts(with: "}}") {
                position += 2
                return false
            }
            return nil
        }

        /// An action after its `{{`: its pipeline (nil for a comment) and whether it trims what follows.
        private mutating func action() throws(GoTemplateError) -> (Pipeline?, Bool) {
            if starts(with: "/*") {
                guard let end = find("*/") else { throw .syntax("unclosed comment") }
                position = end + 2
                skipSpaces()
                guard let trim = actionEnd() else { throw .syntax("comment ends before closing delimiter") }
                return (nil, trim)
            }
            let (pipeline, end) = try self.pipeline(inParentheses: false)
            return (pipeline, end)
        }

        private func find(_ marker: String) -> Int? {
            let marks = Array(marker.unicodeScalars)
            var index = position
            while index + marks.count <= scalars.count {
                if Array(scalars[index..<index + marks.count]) == marks { return index }
                index += 1
            }
            return nil
        }

        /// A pipeline up to `)` (inside parentheses) or the action's end; for an action, whether it trims.
        private mutating func pipeline(inParentheses: Bool) throws(GoTemplateError) -> (Pipeline, Bool) {
            var commands: [Command] = []
            var operands: [Operand] = []
            while true {
                skipSpaces()
                guard position < scalars.count else { throw .syntax("unclosed action") }
                if inParentheses, scalars[position] == ")" {
                    position += 1
                    try finish(&commands, &operands)
                    return (Pipeline(commands: commands), false)
                }
                if !inParentheses, let trim = actionEnd() {
                    try finish(&commands, &operands)
                    return (Pipeline(commands: commands), trim)
                }
                let scalar = scalars[position]
                if scalar == "|" {
                    position += 1
                    guard !operands.isEmpty else { throw .syntax("missing command") }
                    commands.append(Command(operands: operands))
                    operands = []
                    continue
                }
                operands.append(try operand())
                // An operand must be followed by a space, `|`, `)` or the end.
                if position < scalars.count, !isSpace(scalars[position]), scalars[position] != "|",
                    scalars[position] != ")", !starts(with: "}}"), !starts(with: "-}}")
                {
                    throw .syntax(Self.badCharacter(scalars[position]))
                }
            }
        }

        private func finish(_ commands: inout [Command], _ operands: inout [Operand]) throws(GoTemplateError) {
            guard !operands.isEmpty else {
                throw .syntax(commands.isEmpty ? "missing value for command" : "missing command")
            }
            commands.append(Command(operands: operands))
            // Go: a pipeline's later commands are function calls whose last argument is the piped value.
            for command in commands.dropFirst() {
                guard case .function = command.operands[0] else {
                    throw .syntax("non executable command in pipeline stage \(commands.count)")
                }
            }
            if commands[0].operands.count > 1, !isFunction(commands[0].operands[0]) {
                throw .syntax("can't give argument to non-function \(describe(commands[0].operands[0]))")
            }
        }

        private func isFunction(_ operand: Operand) -> Bool {
            if case .function = operand { return true }
            return false
        }

        private func describe(_ operand: Operand) -> String {
            switch operand {
            case .field(let fields): return "." + fields.joined(separator: ".")
            case .variable(let fields): return "$" + fields.map { "." + $0 }.joined()
            case .string(let text): return "\"\(text)\""
            case .number(let number): return number.text
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "nil"
            case .function(let name): return name
            case .chain: return "(…)"
            }
        }

        static func badCharacter(_ scalar: Unicode.Scalar) -> String {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "bad character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex) '\(scalar)'"
        }

        private func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
        }

        private mutating func identifier() -> String {
            var name = ""
            while position < scalars.count, isIdentifierScalar(scalars[position]) {
                name.unicodeScalars.append(scalars[position])
                position += 1
            }
            return name
        }

        /// `.a.b.c` after the current position (each `.` followed by an identifier).
        private mutating func fields() throws(GoTemplateError) -> [String] {
            var fields: [String] = []
            while position < scalars.count, scalars[position] == "." {
                position += 1
                let name = identifier()
                guard !name.isEmpty else {
                    if fields.isEmpty, position >= scalars.count || !isIdentifierScalar(scalars[position]) {
                        return fields
                    }
                    throw .syntax("bad character after '.'")
                }
                fields.append(name)
            }
            return fields
        }

        private mutating func operand() throws(GoTemplateError) -> Operand {
            let scalar = scalars[position]
            switch scalar {
            case ".":
                if position + 1 < scalars.count, scalars[position + 1].properties.numericType == .decimal {
                    return .number(try number())
                }
                return .field(try fields())
            case "$":
                position += 1
                let name = identifier()
                guard name.isEmpty else { throw .unsupported("template variables ($\(name)) are not supported") }
                if position < scalars.count, scalars[position] == ":" || scalars[position] == "=" {
                    throw .unsupported("template variables ($ :=) are not supported")
                }
                return .variable(try fields())
            case "\"":
                return .string(try quoted())
            case "`":
                position += 1
                var text = ""
                while position < scalars.count, scalars[position] != "`" {
                    text.unicodeScalars.append(scalars[position])
                    position += 1
                }
                guard position < scalars.count else { throw .syntax("unterminated raw quoted string") }
                position += 1
                return .string(text)
            case "'":
                throw .unsupported("character constants ('…') are not supported")
            case "(":
                position += 1
                let (inner, _) = try pipeline(inParentheses: true)
                return .chain(inner, try fields())
            case "-", "+", "0"..."9":
                return .number(try number())
            default:
                guard isIdentifierScalar(scalar) else { throw .syntax(Self.badCharacter(scalar)) }
                let name = identifier()
                switch name {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "nil": return .null
                default: break
                }
                if GoTemplate.keywords.contains(name) {
                    throw .unsupported("the '\(name)' action is not supported (only pipelines are evaluated)")
                }
                guard GoTemplate.functions.contains(name) else {
                    throw .unsupported(
                        "function \"\(name)\" is not supported (supported: "
                            + GoTemplate.functions.sorted().joined(separator: ", ") + ")")
                }
                if position < scalars.count, scalars[position] == "." {
                    throw .syntax("unexpected . after term \"\(name)\"")
                }
                return .function(name)
            }
        }

        private mutating func number() throws(GoTemplateError) -> Number {
            var text = ""
            let numberScalars = "+-.eExXabcdefABCDEF_".unicodeScalars
            while position < scalars.count,
                scalars[position].properties.numericType == .decimal || numberScalars.contains(scalars[position])
            {
                text.unicodeScalars.append(scalars[position])
                position += 1
            }
            let plain = text.replacingOccurrences(of: "_", with: "")
            if let integer = Int(plain) { return Number(text: text, integer: integer, float: Double(integer)) }
            let unsigned = plain.hasPrefix("-") || plain.hasPrefix("+") ? String(plain.dropFirst()) : plain
            if unsigned.hasPrefix("0x") || unsigned.hasPrefix("0X"), let value = Int(unsigned.dropFirst(2), radix: 16) {
                let signed = plain.hasPrefix("-") ? -value : value
                return Number(text: text, integer: signed, float: Double(signed))
            }
            if let float = Double(plain), !unsigned.lowercased().hasPrefix("0x") {
                return Number(text: text, integer: nil, float: float)
            }
            throw .syntax("bad number syntax: \"\(text)\"")
        }

        /// A `"…"` string with Go's escapes.
        private mutating func quoted() throws(GoTemplateError) -> String {
            position += 1
            var text = ""
            while position < scalars.count {
                let scalar = scalars[position]
                position += 1
                switch scalar {
                case "\"": return text
                case "\n": throw .syntax("unterminated quoted string")
                case "\\":
                    guard position < scalars.count else { throw .syntax("unterminated quoted string") }
                    let escape = scalars[position]
                    position += 1
                    switch escape {
                    case "n": text += "\n"
                    case "t": text += "\t"
                    case "r": text += "\r"
                    case "\\": text += "\\"
                    case "\"": text += "\""
                    case "a": text += "\u{07}"
                    case "b": text += "\u{08}"
                    case "f": text += "\u{0C}"
                    case "v": text += "\u{0B}"
                    case "u", "U", "x":
                        let count = escape == "u" ? 4 : escape == "U" ? 8 : 2
                        guard position + count <= scalars.count,
                            let value = UInt32(
                                String(String.UnicodeScalarView(scalars[position..<position + count])), radix: 16),
                            let decoded = Unicode.Scalar(value)
                        else { throw .syntax("invalid syntax in quoted string") }
                        position += count
                        text.unicodeScalars.append(decoded)
                    default: throw .syntax("invalid syntax in quoted string")
                    }
                default: text.unicodeScalars.append(scalar)
                }
            }
            throw .syntax("unterminated quoted string")
        }
    }
}

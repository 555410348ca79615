/// A value as a Go template sees the event data: what gjson's `Value()` makes of JSON (every number a `float64`,
/// objects as `map[string]interface{}`), plus the template's own integer constants and Go's two kinds of nothing.
package indirect enum GoValue: Sendable, Equatable {
    /// The invalid `reflect.Value`: a missing map key or a nil result. Prints `<no value>`.
    case missing
    /// A nil `interface{}` (JSON `null`). Prints `<nil>` inside a map or slice; as a pipeline's result it becomes
    /// ``missing``, as Go's `reflect.ValueOf(value.Interface())` does.
    case null
    case bool(Bool)
    /// A `float64`.
    case float(Double)
    /// An `int` (a template's integer constant).
    case int(Int)
    case string(String)
    case array([GoValue])
    /// A `map[string]interface{}` (a repeated JSON key keeps its last value, as Go's map does).
    case map([String: GoValue])

    /// gjson's `Value()` of a JSON value.
    package init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let digits): self = .float(Double(digits) ?? .nan)
        case .double(let number): self = .float(number)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(GoValue.init(json:)))
        case .object(let members):
            var map: [String: GoValue] = [:]
            for (key, value) in members { map[key] = GoValue(json: value) }
            self = .map(map)
        }
    }

    /// The Go type's name, as Go's errors name it.
    var typeName: String {
        switch self {
        case .missing, .null: return "interface {}"
        case .bool: return "bool"
        case .float: return "float64"
        case .int: return "int"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .map: return "map[string]interface {}"
        }
    }

    /// What `fmt.Sprint` writes (the template's output for a pipeline's value).
    var printed: String {
        switch self {
        case .missing: return "<no value>"
        case .null: return "<nil>"
        case .bool(let flag): return flag ? "true" : "false"
        case .float(let number): return FloatText.goDefault(number)
        case .int(let number): return String(number)
        case .string(let text): return text
        case .array(let elements): return "[" + elements.map(\.printed).joined(separator: " ") + "]"
        case .map(let map):
            // fmt sorts a map's keys.
            return "map[" + map.keys.sorted().map { "\($0):\(map[$0]!.printed)" }.joined(separator: " ") + "]"
        }
    }

    /// sprig's `empty`: nil, zero, false, and empty strings, maps and slices.
    var isEmpty: Bool {
        switch self {
        case .missing, .null: return true
        case .bool(let flag): return !flag
        case .float(let number): return number == 0
        case .int(let number): return number == 0
        case .string(let text): return text.isEmpty
        case .array(let elements): return elements.isEmpty
        case .map(let map): return map.isEmpty
        }
    }

    /// `json.Marshal` (sprig's `toJson`): keys sorted, HTML characters escaped; nil when Go's encoder fails.
    var goJSON: String? {
        switch self {
        case .missing, .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .float(let number): return FloatText.goJSON(number)
        case .int(let number): return String(number)
        case .string(let text): return GoJSON.quote(text)
        case .array(let elements):
            var parts: [String] = []
            for element in elements {
                guard let text = element.goJSON else { return nil }
                parts.append(text)
            }
            return "[" + parts.joined(separator: ",") + "]"
        case .map(let map):
            var parts: [String] = []
            for key in map.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                guard let text = map[key]!.goJSON else { return nil }
                parts.append(GoJSON.quote(key) + ":" + text)
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }
}

/// Go's `encoding/json` string escaping (with `SetEscapeHTML(true)`, the default).
enum GoJSON {
    private static let hex = Array("0123456789abcdef".utf8)

    /// A string as `json.Marshal` writes it: `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, else
    /// `\u00XX`), `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`…, everything else as UTF-8. With `serde`, also
    /// `\b` and `\f` as serde_json (pydantic) writes them: Go's compaction of a raw message keeps them.
    static func quote(_ text: String, serde: Bool = false) -> String {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += Array(#"\""#.utf8)
            case "\\": output += Array(#"\\"#.utf8)
            case "\n": output += Array(#"\n"#.utf8)
            case "\r": output += Array(#"\r"#.utf8)
            case "\t": output += Array(#"\t"#.utf8)
            case "\u{08}" where serde: output += Array(#"\b"#.utf8)
            case "\u{0C}" where serde: output += Array(#"\f"#.utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                output += Array(#"\u"#.utf8)
                let value = scalar.value
                for shift in [12, 8, 4, 0] { output.append(hex[Int((value >> UInt32(shift)) & 0xF)]) }
            default:
                if scalar.value < 0x20 {
                    output += Array(#"\u00"#.utf8)
                    output.append(hex[Int(scalar.value >> 4)])
                    output.append(hex[Int(scalar.value & 0xF)])
                } else {
                    output += Array(String(scalar).utf8)
                }
            }
        }
        output.append(UInt8(ascii: "\""))
        return String(decoding: output, as: UTF8.self)
    }
}

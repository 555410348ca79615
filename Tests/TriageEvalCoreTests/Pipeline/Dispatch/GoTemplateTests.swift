import Testing
import TriageEvalCore

/// The Go template subset on examples worked by hand from `text/template` and sprig's documented behaviour: what
/// prints, what is missing, what fails, and what is refused.
@Suite struct GoTemplateTests {
    /// The event data of a decision as a Sensor sees it: `{"subject", "body": {...}}`.
    static let data: GoValue = GoValue(
        json: try! JSONParser.parse(
            #"""
            {"subject": "remediation.execute",
             "body": {"incident_id": "inc-1", "confidence": 0.85, "needs_human": false, "big": 1000000,
                      "count": 30, "nothing": null, "text": " Mixed Case ",
                      "actions": [{"name": "scale_up", "params": {"namespace": "shop", "replicas": "4"},
                                   "rationale": "lag <5m & rising"}]}}
            """#))

    static func render(_ source: String) throws -> String {
        try GoTemplate(source).execute(input: data)
    }

    @Test func fieldsIndexAndPipelinesPrintAsGoDoes() throws {
        #expect(try Self.render("{{ .Input.body.incident_id }}") == "inc-1")
        #expect(try Self.render("id={{.Input.body.incident_id}}!") == "id=inc-1!")
        #expect(try Self.render("{{ (index .Input.body.actions 0).name }}") == "scale_up")
        #expect(try Self.render(#"{{ index .Input.body.actions 0 "params" "replicas" }}"#) == "4")
        #expect(try Self.render("{{ $.Input.subject }}") == "remediation.execute")
        // Every JSON number is a float64, printed with %v: shortest digits, an exponent from 1e+06 on.
        #expect(try Self.render("{{ .Input.body.confidence }}") == "0.85")
        #expect(try Self.render("{{ .Input.body.count }}") == "30")
        #expect(try Self.render("{{ .Input.body.big }}") == "1e+06")
        #expect(try Self.render("{{ .Input.body.needs_human }}") == "false")
        // A map and a slice print as fmt prints them, keys sorted.
        #expect(
            try Self.render("{{ (index .Input.body.actions 0).params }}") == "map[namespace:shop replicas:4]")
        // Trim markers remove the white space beside them.
        #expect(try Self.render("a  {{- .Input.body.incident_id -}}  b") == "ainc-1b")
        #expect(try Self.render("{{/* a comment */}}x") == "x")
    }

    @Test func missingAndNullPrintNoValue() throws {
        // A missing key, a field of a missing key, and null are all `<no value>` at the end of a pipeline.
        #expect(try Self.render("{{ .Input.body.template }}") == "<no value>")
        #expect(try Self.render("{{ .Input.body.nope.deeper }}") == "<no value>")
        #expect(try Self.render("{{ .Input.body.nothing }}") == "<no value>")
        #expect(try Self.render(#"{{ index .Input.body "nope" }}"#) == "<no value>")
    }

    @Test func executionErrorsAreGos() throws {
        // A field of null is a nil pointer; a field of a string cannot be evaluated; an index past the end fails.
        #expect(throws: GoTemplateError(kind: .execution, message: "nil pointer evaluating interface {}.x")) {
            try Self.render("{{ .Input.body.nothing.x }}")
        }
        #expect(throws: GoTemplateError(kind: .execution, message: "can't evaluate field x in type string")) {
            try Self.render("{{ .Input.body.incident_id.x }}")
        }
        #expect(throws: GoTemplateError(kind: .execution, message: "error calling index: index out of range: 1")) {
            try Self.render("{{ index .Input.body.actions 1 }}")
        }
        // A string parameter given a float64.
        #expect(
            throws: GoTemplateError(
                kind: .execution, message: "wrong type for value; expected string; got float64")
        ) { try Self.render("{{ .Input.body.count | lower }}") }
    }

    @Test func theSprigFunctionsSensorsUse() throws {
        #expect(try Self.render(#"{{ .Input.body.template | default "restart-pods-tpl" }}"#) == "restart-pods-tpl")
        #expect(try Self.render(#"{{ default "x" .Input.body.incident_id }}"#) == "inc-1")
        // default treats false, 0 and "" as empty.
        #expect(try Self.render(#"{{ .Input.body.needs_human | default "unset" }}"#) == "unset")
        #expect(try Self.render("{{ .Input.body.incident_id | quote }}") == #""inc-1""#)
        #expect(try Self.render("{{ quote .Input.body.count }}") == #""30""#)
        #expect(try Self.render(#"{{ quote "a\"b" }}"#) == #""a\"b""#)
        #expect(try Self.render("{{ .Input.body.text | lower }}") == " mixed case ")
        #expect(try Self.render("{{ .Input.body.text | upper | trim }}") == "MIXED CASE")
        #expect(try Self.render(#"{{ (index .Input.body.actions 0).name | replace "_" "-" }}-tpl"#) == "scale-up-tpl")
        #expect(try Self.render(#"{{ .Input.body.incident_id | trimPrefix "inc-" }}"#) == "1")
        #expect(try Self.render(#"{{ trimSuffix "-1" .Input.body.incident_id }}"#) == "inc")
        // toJson: keys sorted, HTML characters escaped, numbers as encoding/json writes float64.
        #expect(
            try Self.render("{{ (index .Input.body.actions 0) | toJson }}")
                == #"{"name":"scale_up","params":{"namespace":"shop","replicas":"4"},"rationale":"lag \u003c5m \u0026 rising"}"#
        )
        #expect(try Self.render("{{ toJson .Input.body.big }}") == "1000000")
        #expect(try Self.render("{{ toJson .Input.body.nothing }}") == "null")
    }

    @Test func syntaxGoRejectsIsASyntaxError() {
        // The seed's `actions[0]`: Go's lexer stops at the bracket.
        #expect(throws: GoTemplateError(kind: .syntax, message: "bad character U+005B '['")) {
            try GoTemplate("{{ .Input.body.actions[0].template }}")
        }
        #expect(throws: GoTemplateError(kind: .syntax, message: "unclosed action")) {
            try GoTemplate("{{ .Input.body")
        }
        #expect(throws: GoTemplateError(kind: .syntax, message: "unterminated quoted string")) {
            try GoTemplate(#"{{ "abc }}"#)
        }
    }

    @Test func constructsOutsideTheSubsetAreRefusedByName() {
        for (source, word) in [
            ("{{ if .Input.body }}x{{ end }}", "'if'"), ("{{ range .Input.body.actions }}{{ end }}", "'range'"),
            (#"{{ printf "%s" .Input.subject }}"#, #""printf""#), ("{{ $x := 1 }}", "variables"),
            ("{{ .Input.body | b64enc }}", #""b64enc""#),
        ] {
            do {
                _ = try GoTemplate(source)
                Issue.record("\(source) was accepted")
            } catch {
                #expect(error.kind == .unsupported, "\(source)")
                #expect(error.message.contains(word), "\(source): \(error.message)")
            }
        }
    }

    @Test func inputPathsNameWhatTheTemplateReads() throws {
        #expect(try GoTemplate("{{ .Input.body.incident_id }}").inputPaths == [["body", "incident_id"]])
        #expect(
            try GoTemplate("{{ (index .Input.body.actions 0).name }}").inputPaths == [
                ["body", "actions", "0", "name"]
            ])
    }
}

/// gjson paths and sjson sets, on examples worked by hand from the two libraries' READMEs.
@Suite struct GJSONTests {
    static let document = try! JSONParser.parse(
        #"""
        {"body": {"incident_id": "inc-1", "confidence": 0.5, "n": 3, "ok": true, "none": null,
                  "actions": [{"name": "a", "params": {"x.y": "dotted"}}, {"name": "b"}],
                  "fav.movie": "Deer Hunter", "child": {"k": 1}}}
        """#)

    static func get(_ path: String) throws -> String? {
        try GJSONPath(path).value(in: document).map(GJSONPath.string)
    }

    @Test func pathsFindWhatGJSONFinds() throws {
        #expect(try Self.get("body.incident_id") == "inc-1")
        #expect(try Self.get("body.actions.0.name") == "a")
        #expect(try Self.get("body.actions.1.name") == "b")
        #expect(try Self.get("body.actions.2.name") == nil)
        #expect(try Self.get("body.actions.#") == "2")
        #expect(try Self.get("body.actions.#.name") == #"["a","b"]"#)
        #expect(try Self.get(#"body.fav\.movie"#) == "Deer Hunter")
        #expect(try Self.get(#"body.actions.0.params.x\.y"#) == "dotted")
        #expect(try Self.get("body.incident_i?") == "inc-1")
        #expect(try Self.get("body.conf*") == "0.5")
        // String(): numbers by their digits, true/false, null as "" (it exists), objects as raw JSON.
        #expect(try Self.get("body.n") == "3")
        #expect(try Self.get("body.ok") == "true")
        #expect(try Self.get("body.none") == "")
        #expect(try Self.get("body.child") == #"{"k":1}"#)
        #expect(try Self.get("body.missing") == nil)
    }

    @Test func syntaxBeyondTheSubsetIsRefused() {
        for path in ["body.actions.#(name==a)", "body|@reverse", "@this", ""] {
            #expect(throws: GJSONPathError.self, "\(path)") { try GJSONPath(path) }
        }
    }

    @Test func sjsonSetsAsItsReadmeShows() throws {
        func set(_ json: String, _ path: String, _ value: String) throws -> String {
            PythonJSONEncoder.string(
                try SJSONPath.set(try JSONParser.parse(json), path: path, to: .string(value)))
        }
        // Replace in place; add a key at the end; create the parents.
        #expect(try set(#"{"name":{"last":"Anderson"}}"#, "name.last", "Smith") == #"{"name": {"last": "Smith"}}"#)
        #expect(
            try set(#"{"name":{"last":"Anderson"}}"#, "name.first", "Sara")
                == #"{"name": {"last": "Anderson", "first": "Sara"}}"#)
        #expect(try set("{}", "a.b.c", "v") == #"{"a": {"b": {"c": "v"}}}"#)
        // Arrays: replace, append at the length or -1, pad with null past it; a number creates an array.
        #expect(try set(#"{"p":["a","b"]}"#, "p.1", "c") == #"{"p": ["a", "c"]}"#)
        #expect(try set(#"{"p":["a"]}"#, "p.1", "c") == #"{"p": ["a", "c"]}"#)
        #expect(try set(#"{"p":["a"]}"#, "p.-1", "c") == #"{"p": ["a", "c"]}"#)
        #expect(try set(#"{"p":["a"]}"#, "p.3", "c") == #"{"p": ["a", null, null, "c"]}"#)
        #expect(try set("{}", "p.1", "c") == #"{"p": [null, "c"]}"#)
        #expect(
            try set(#"{"spec":{"arguments":{"parameters":[{"name":"n"}]}}}"#, "spec.arguments.parameters.0.value", "x")
                == #"{"spec": {"arguments": {"parameters": [{"name": "n", "value": "x"}]}}}"#)
        #expect(try set("{}", #"a\.b"#, "v") == #"{"a.b": "v"}"#)
    }
}

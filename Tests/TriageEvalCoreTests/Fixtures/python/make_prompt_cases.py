#!/usr/bin/env python3
"""Writes prompt-cases.jsonl: what production's Python does for every prompt rule, computed by Python itself.

Run with the production versions (Python 3.11, PyYAML 6.0.3):
    python3 make_prompt_cases.py > prompt-cases.jsonl

Each line is one case:
- {"kind": "yaml", "id", "text", "json"}  — json.dumps(yaml.safe_load(text), indent=2), or "error" when
  production would crash (json.dumps raising TypeError) — the Swift loader must fail there too;
- {"kind": "json_catalog", "id", "text", "json"} — json.dumps(json.loads(text), indent=2);
- {"kind": "user", "id", "text", "json"} — json.dumps(json.loads(text)), the user message;
- {"kind": "float", "id", "value_hex", "repr"} — repr(float) for a double given by its bits.
"""
import json
import random
import struct
import sys

import yaml

cases = []


def add_yaml(case_id, text):
    try:
        value = yaml.safe_load(text)
        cases.append({"kind": "yaml", "id": case_id, "text": text, "json": json.dumps(value, indent=2)})
    except TypeError as error:
        cases.append({"kind": "yaml", "id": case_id, "text": text, "error": str(error)})


yaml_scalars = {
    "bool-yes": "yes", "bool-Yes": "Yes", "bool-YES": "YES", "bool-no": "no", "bool-on": "on", "bool-Off": "Off",
    "bool-true": "true", "bool-False": "False", "bool-y-is-string": "y", "bool-n-is-string": "n",
    "bool-yEs-is-string": "yEs", "int-decimal": "30", "int-negative": "-17", "int-plus": "+5",
    "int-octal": "017", "int-octal-0o-is-string": "0o17", "int-hex": "0x1F", "int-hex-upper-is-string": "0X1F",
    "int-binary": "0b1010", "int-underscores": "1_000_000", "int-sexagesimal": "1:30",
    "int-sexagesimal-3": "1:02:03", "int-big": "123456789012345678901234567890", "int-zero": "0",
    "int-neg-zero": "-0", "float-dot": "1.5", "float-trailing-dot": "1.", "float-exp-no-dot-is-string": "1e3",
    "float-exp-unsigned-is-string": "1.0e3", "float-exp-signed": "1.0e+3", "float-exp-negative": "1.5e-7",
    "float-leading-dot": ".5", "float-underscore": "1_000.5", "float-inf": ".inf", "float-neg-inf": "-.inf",
    "float-Inf": ".Inf", "float-nan": ".nan", "float-NaN": ".NaN", "float-sexagesimal": "1:30.5",
    "float-tiny": "0.0000001", "float-big": "1.0e+16", "float-hundred": "100.0", "float-third": "0.333333333333",
    "null-tilde": "~", "null-word": "null", "null-Null": "Null", "null-NULL": "NULL", "null-empty": "",
    "string-nULL": "nULL", "string-plain": "restart-pods-tpl", "string-duration": "5m",
    "string-url": "https://runbooks.internal/restart-pods", "string-unicode": "Zürich 🚀 café",
    "string-control": "\"tab\\there\\u0001\"", "string-quoted-int": "\"30\"", "string-single-quoted": "'yes'",
    "string-version": "1.2.3", "string-ip": "10.0.0.1", "string-colon-space-is-string": "\"a: b\"",
    "date": "2026-01-01", "datetime": "2026-01-01T10:00:00Z", "datetime-space": "2026-01-01 10:00:00",
    "explicit-str-tag": "!!str 30", "explicit-int-tag": "!!int \"42\"", "explicit-float-tag": "!!float 3",
}
for case_id, scalar in yaml_scalars.items():
    add_yaml("scalar-" + case_id, "actions:\n  - name: a\n    value: " + scalar + "\n")

add_yaml("seed-catalog", open(sys.argv[1]).read() if len(sys.argv) > 1 else "version: 1\nactions: []\n")
add_yaml("duplicate-keys-last-wins-first-position", "b: 1\na: 2\nb: 3\nactions: []\n")
add_yaml("int-keys", "actions: []\n1: one\ntrue: yes\n~: null\n1.5: x\n")
add_yaml("empty-collections", "actions: []\nparams: []\nconstraints: {}\n")
add_yaml("flow-style", "actions: [{name: a, params: [x, y], requires_approval: yes}]\n")
add_yaml("block-scalars", "actions:\n  - name: a\n    note: |\n      line one\n      line two\n    folded: >\n      a\n      b\n")
add_yaml("anchors-and-merge", "base: &b {timeout: 5m, requires_approval: false}\nactions:\n  - <<: *b\n    name: a\n    timeout: 10m\n")
add_yaml("nested-date-error", "actions:\n  - name: a\n    constraints:\n      not_before: 2026-01-01\n")
add_yaml("unicode-keys", "actions: []\nnäme: ü\n\"emoji 🚀\": x\n")

for case_id, text in {
    "json-duplicate-keys": '{"b": 1, "actions": [], "b": 2}',
    "json-floats": '{"actions": [], "a": 1E5, "b": 1e-7, "c": 2.50, "d": -0.0, "e": 1e400}',
    "json-nan": '{"actions": [], "x": NaN, "y": -Infinity}',
    "json-unicode": '{"actions": [{"name": "caf\\u00e9", "x": "\\ud83d\\ude80"}]}',
    "json-big-int": '{"actions": [], "n": 123456789012345678901234567890, "m": -0}',
    "json-empty": '{"actions": [], "o": {}, "l": [[], {}]}',
}.items():
    cases.append({"kind": "json_catalog", "id": case_id, "text": text,
                  "json": json.dumps(json.loads(text), indent=2)})

for case_id, text in {
    "separators": '{"a":[1,2,{"b":null}],"c":true}',
    "escapes": '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\\u007f\\u0080\\u00ff\\u2028\\uffff"}',
    "astral": '{"s":"\\ud83d\\ude80 \\ud800\\udc00 \\udbff\\udfff"}',
    "raw-utf8": '{"s":"\u00e9\u4e2d\U0001f680"}',
    "numbers": '[0, -0, 1, -1, 1.0, -1.5, 1e22, 1e21, 1e16, 1e15, 123456789012345678, 0.1, 1e-4, 1e-5, 5e-324, 1.7976931348623157e308]',
    "number-overflow": '[1e400, -1e400, 1e-400]',
    "nonfinite": '[NaN, Infinity, -Infinity]',
    "duplicates-nested": '{"a": {"x": 1, "y": 2, "x": 3}, "a2": [{"k": 1, "k": 2}]}',
    "many-duplicates": '{' + ", ".join(f'"k{i % 20}": {i}' for i in range(60)) + '}',
    "whitespace": ' \t\r\n{ "a" : 1 } \n',
    "top-level-scalar": '3.0',
    "go-escapes": '{"u":"a\\u0026b\\u003cc\\u003e"}',
}.items():
    cases.append({"kind": "user", "id": case_id, "text": text, "json": json.dumps(json.loads(text))})

rng = random.Random(20261129)
special = [0.0, -0.0, 1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 100.0, 1e16, 1e15, 9999999999999998.0, 1e17, 1e-4, 1e-5,
           0.0001, 0.00001, 123.456, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 4.35, 0.7,
           0.6999999999999999, 0.69999999999999996, 1e22, 1e23, 12345678901234567890.0, 1.5e300, 2.5e-5]
values = special + [-v for v in special] + [rng.uniform(0, 1) for _ in range(300)] + [
    struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(700)]
for index, value in enumerate(values):
    if value != value or value in (float("inf"), float("-inf")):
        continue
    cases.append({"kind": "float", "id": f"float-{index}", "value_hex": struct.pack(">d", value).hex(),
                  "repr": repr(value)})

for case in cases:
    print(json.dumps(case))

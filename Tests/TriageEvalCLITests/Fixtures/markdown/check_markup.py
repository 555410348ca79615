#!/usr/bin/env python3
"""Renders Markdown files with cmark-gfm (GitHub's renderer, PyPI cmarkgfm) the way GitHub does (raw HTML passed
through, tables and autolinks on) and reports any markup that hostile model text could have made: a tag whose
attribute points at the attacker's host (a link, an image, raw HTML), a heading holding model text, a table row
with more or fewer cells than its header. The rendered HTML is parsed, so text that merely shows such markup
(inside a code span, say) is not mistaken for it.

usage: check_markup.py HOST MARKER FILE.md...   prints "ok", or one line per problem (exit 1)
"""
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options


class Checker(HTMLParser):
    def __init__(self, path, host, marker):
        super().__init__()
        self.path, self.host, self.marker = path, host, marker
        self.problems = []
        self.heading = None
        self.tables = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and self.host in value:
                self.problems.append(f"{self.path}: <{tag} {name}=\"{value}\"> points at {self.host}")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = ""
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append(0)
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self.tables[-1][-1] += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self.heading is not None:
            if self.marker in self.heading:
                self.problems.append(f"{self.path}: model text became a heading: {self.heading[:60]!r}")
            self.heading = None
        elif tag == "table" and self.tables:
            widths = set(self.tables.pop())
            if len(widths) > 1:
                self.problems.append(f"{self.path}: a table's rows have {sorted(widths)} cells")

    def handle_data(self, data):
        if self.heading is not None:
            self.heading += data


host, marker, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
problems = []
for path in paths:
    text = open(path, encoding="utf-8").read()
    checker = Checker(path, host, marker)
    checker.feed(cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE))
    problems += checker.problems
print("\n".join(problems) if problems else "ok")
sys.exit(1 if problems else 0)

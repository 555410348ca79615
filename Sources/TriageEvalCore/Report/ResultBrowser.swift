import Foundation
import GRDB

/// `report.html`'s results browser: every result of a run (up to `report.browser_rows`, the rest counted) in a
/// table filtered in the page by alert type, failure class, route, correctness, harm and text, each row opening
/// the event the model was given, its reply, the verdict's errors, the strict policy's findings and the label.
/// Everything the model wrote is escaped; the page stays one file that loads nothing.
package struct ResultBrowser: Sendable, Equatable {
    /// One result, as the browser shows it.
    package struct Row: Sendable, Equatable {
        package var incidentId: String
        package var sample: Int
        package var alertType: String
        package var failureClass: String
        package var route: String
        package var productionRoute: String
        package var expect: String
        package var expectedRoute: String
        package var decisionCorrect: Bool
        package var routeCorrect: Bool
        package var unsafe: Bool
        package var confidence: Double?
        package var transportError: String?
        /// The reply's text, cut at ``replyLimit`` characters (the model's: untrusted).
        package var reply: String?
        package var errors: String
        package var policyViolations: String
        /// The label: expectation, actions, alternatives, forbidden actions, note and where it came from.
        package var label: String
        /// The incident's first delivery as Alertmanager sent it, cut at ``eventLimit`` characters.
        package var event: String
    }

    /// The longest reply text and event shown in a row's details (`export` and the store have them whole): the
    /// page holds up to `report.browser_rows` of each.
    package static let replyLimit = 1500
    package static let eventLimit = 1000

    package var rows: [Row]
    /// Results of the run in all.
    package var total: Int
    /// The scenario's cap.
    package var cap: Int

    /// Reads the first `cap` results of a run, by incident and sample.
    package static func read(runId: String, cap: Int, in db: Database) throws -> ResultBrowser {
        let total = try ResultRecord.count(db, runId: runId)
        func clip(_ text: String?, _ limit: Int) -> String? {
            guard let text else { return nil }
            return text.count > limit ? "\(text.prefix(limit))… (\(text.count) characters)" : text
        }
        let rows = try GRDB.Row.fetchAll(
            db,
            sql: """
                SELECT result.incidentId, result.sample, incident.alertname, result.failureClass, result.route,
                    result.productionRoute, result.expect, result.expectedRoute, result.decisionCorrect,
                    result.routeCorrect, result.unsafe, result.confidence, result.transportError, reply.text,
                    result.errors, result.policyViolations, entry.actions, entry.alternatives, entry.forbidden,
                    entry.note, entry.source, delivery.body
                FROM result
                JOIN run ON run.id = result.runId
                LEFT JOIN reply ON reply.id = result.replyId
                LEFT JOIN incident ON incident.id = result.incidentId
                LEFT JOIN delivery ON delivery.id = incident.firstDeliveryId
                LEFT JOIN labelSetEntry AS entry
                    ON entry.labelSetId = run.labelSetId AND entry.incidentId = result.incidentId
                WHERE result.runId = ?
                ORDER BY result.incidentId, result.sample
                LIMIT ?
                """,
            arguments: [runId, cap]
        ).map { row -> Row in
            let body: Data? = row[21]
            var label = "expect: \(row[6] as String)"
            if let actions: String = row[16], actions != "[]" { label += "\nactions: \(actions)" }
            if let alternatives: String = row[17], alternatives != "[]" { label += "\nalternatives: \(alternatives)" }
            if let forbidden: String = row[18], forbidden != "[]" { label += "\nforbidden: \(forbidden)" }
            if let note: String = row[19] { label += "\nnote: \(note)" }
            if let source: String = row[20] { label += "\nfrom: \(source)" }
            return Row(
                incidentId: row[0], sample: row[1], alertType: row[2] ?? "(no alertname)", failureClass: row[3],
                route: row[4], productionRoute: row[5], expect: row[6], expectedRoute: row[7], decisionCorrect: row[8],
                routeCorrect: row[9], unsafe: row[10], confidence: row[11], transportError: row[12],
                reply: clip(row[13], replyLimit), errors: row[14], policyViolations: row[15], label: label,
                event: clip(body.map { String(decoding: $0, as: UTF8.self) }, eventLimit) ?? "")
        }
        return ResultBrowser(rows: rows, total: total, cap: cap)
    }

    /// The section of the page: the filters, the table and a line for what is not listed.
    package var html: String {
        func options(_ id: String, _ label: String, _ values: [(value: String, text: String)]) -> String {
            let items = values.map {
                "<option value=\"\(ReportText.html($0.value))\">\(ReportText.html($0.text))</option>"
            }
            return
                "<label>\(label) <select id=\"\(id)\"><option value=\"\">all</option>\(items.joined())</select></label>"
        }
        func distinct(_ values: [String]) -> [(String, String)] { Array(Set(values)).sorted().map { ($0, $0) } }
        var html = ["<h2 id=\"results\">Results</h2>"]
        let unlisted = total - rows.count
        html.append(
            "<p>Every result of the run, by incident and sample\(unlisted > 0 ? ": the first \(rows.count) of \(total) (report.browser_rows); the other \(unlisted) are in report.json's counts and in export, not listed here" : ""). "
                + "Showing <b id=\"results-shown\">\(rows.count)</b> of \(rows.count). Click an incident to open "
                + "its event, reply, verdict, strict-policy findings and label.</p>")
        html.append(
            "<div class=\"filters\">"
                + options("f-alert", "Alert type", distinct(rows.map(\.alertType)))
                + options("f-class", "Failure class", distinct(rows.map(\.failureClass)))
                + options("f-route", "Route", Route.allCases.map { ($0.rawValue, $0.rawValue) })
                + options("f-correct", "Decision", [("yes", "right"), ("no", "wrong")])
                + options("f-harm", "Harm", [("unsafe", "unsafe execution"), ("none", "none")])
                + "<label>Search <input id=\"f-text\" type=\"search\" placeholder=\"incident, action, text…\"></label>"
                + "</div>")
        html.append(
            "<table class=\"results\"><thead><tr><th>Incident</th><th>#</th><th>Alert type</th><th>Class</th>"
                + "<th>Route</th><th>Expected</th><th>Decision</th><th>Harm</th><th>Confidence</th></tr></thead>")
        for row in rows {
            let attributes = [
                ("alert", row.alertType), ("class", row.failureClass), ("route", row.route),
                ("correct", row.decisionCorrect ? "yes" : "no"), ("harm", row.unsafe ? "unsafe" : "none"),
            ].map { " data-\($0.0)=\"\(ReportText.html($0.1))\"" }.joined()
            let confidence = row.confidence.map { ReportText.confidence($0) } ?? "–"
            var route = row.route
            if row.productionRoute != row.route { route += " (production: \(row.productionRoute))" }
            html.append(
                "<tbody class=\"result\"\(attributes)><tr class=\"summary\">"
                    + "<td><button type=\"button\" class=\"open\">\(ReportText.html(row.incidentId))</button></td>"
                    + "<td class=\"num\">\(row.sample)</td><td>\(ReportText.html(row.alertType))</td>"
                    + "<td>\(ReportText.html(row.failureClass))</td><td>\(ReportText.html(route))</td>"
                    + "<td>\(ReportText.html(row.expect)) → \(ReportText.html(row.expectedRoute))</td>"
                    + "<td class=\"\(row.decisionCorrect ? "pass" : "fail")\">\(row.decisionCorrect ? "right" : "wrong")</td>"
                    + "<td class=\"\(row.unsafe ? "fail" : "")\">\(row.unsafe ? "unsafe execution" : "–")</td>"
                    + "<td class=\"num\">\(confidence)</td></tr>")
            var detail: [String] = []
            func section(_ title: String, _ text: String) {
                detail.append("<h4>\(title)</h4><pre class=\"reply\">\(ReportText.htmlText(text))</pre>")
            }
            section("Label", row.label)
            if let transport = row.transportError {
                section("No reply", transport)
            } else {
                section("Reply (the model's text)", row.reply ?? "")
            }
            section("Verdict", "\(row.failureClass)\(row.errors == "[]" ? "" : ": \(row.errors)")")
            section("Strict policy", row.policyViolations == "[]" ? "no finding" : row.policyViolations)
            section("Event (the incident's first delivery)", row.event)
            html.append("<tr class=\"detail\" hidden><td colspan=\"9\">\(detail.joined())</td></tr></tbody>")
        }
        html.append("</table>")
        return html.joined(separator: "\n")
    }

    /// The page's filtering, added to its one script: the filters' values live in the address's fragment
    /// (`#route=escalate&harm=unsafe&q=restart`), so a filtered view can be linked to and reloaded.
    package static let script = """
        (function () {
          var table = document.querySelector("table.results");
          if (!table) return;
          var keys = { alert: "f-alert", "class": "f-class", route: "f-route", correct: "f-correct", harm: "f-harm" };
          function control(key) { return document.getElementById(keys[key] || "f-text"); }
          function apply() {
            var query = (control("q").value || "").toLowerCase();
            var shown = 0;
            table.querySelectorAll("tbody.result").forEach(function (body) {
              var visible = Object.keys(keys).every(function (key) {
                var wanted = control(key).value;
                return !wanted || body.getAttribute("data-" + key) === wanted;
              }) && (!query || body.textContent.toLowerCase().indexOf(query) >= 0);
              body.hidden = !visible;
              if (visible) shown += 1;
            });
            document.getElementById("results-shown").textContent = String(shown);
            document.body.setAttribute("data-results-shown", String(shown));
          }
          function save() {
            var parts = [];
            Object.keys(keys).concat(["q"]).forEach(function (key) {
              var value = control(key).value;
              if (value) parts.push(key + "=" + encodeURIComponent(value));
            });
            history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
          }
          new URLSearchParams(location.hash.slice(1)).forEach(function (value, key) {
            var element = control(key);
            if (element && (key in keys || key === "q")) element.value = value;
          });
          Object.keys(keys).concat(["q"]).forEach(function (key) {
            control(key).addEventListener("input", function () { apply(); save(); });
          });
          table.addEventListener("click", function (event) {
            var button = event.target.closest("button.open");
            if (!button) return;
            var detail = button.closest("tbody").querySelector("tr.detail");
            detail.hidden = !detail.hidden;
          });
          apply();
        })();
        """
}

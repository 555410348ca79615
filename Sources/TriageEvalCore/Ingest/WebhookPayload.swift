/// One alert of an Alertmanager webhook body.
package struct WebhookAlert: Sendable, Equatable {
    /// `firing` or `resolved`.
    package var status: String
    /// Alertmanager's fingerprint (16 hex digits over the label set).
    package var fingerprint: String
    /// `startsAt`, as the exact string sent.
    package var startsAt: String
    /// `startsAt` as an instant.
    package var start: Timestamp
    /// `endsAt`, as sent.
    package var endsAt: String
    /// The `alertname` label, when present.
    package var alertname: String?
    /// The labels as compact JSON (Python `json.dumps` layout).
    package var labelsJSON: String
    /// The annotations as compact JSON.
    package var annotationsJSON: String
}

/// An Alertmanager webhook body (version "4"), validated.
///
/// Only the fields triage-eval needs are decoded; the exact bytes are kept elsewhere.
package struct WebhookPayload: Sendable, Equatable {
    /// The receiver's name.
    package var receiver: String
    /// `firing` if any alert is firing, else `resolved`.
    package var status: String
    /// The route's group key.
    package var groupKey: String
    /// How many alerts `max_alerts` left out.
    package var truncatedAlerts: Int
    /// The alerts sent.
    package var alerts: [WebhookAlert]
    /// The group labels' `alertname`, else the first alert's.
    package var alertname: String?

    /// The largest body accepted unless configured otherwise: 10 MiB.
    package static let defaultSizeLimit = 10 * 1024 * 1024

    /// Decodes and validates a body.
    /// - Parameter body: the exact bytes.
    /// - Returns: the payload.
    /// - Throws: ``QuarantineReason`` naming what is wrong.
    package static func decode(_ body: UnsafeBufferPointer<UInt8>) throws(QuarantineReason) -> WebhookPayload {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, options: .python)
        } catch {
            throw .notJSON(error.description)
        }
        guard case .object = value else { throw .notAnObject(value.typeName) }
        guard let version = value["version"] else { throw .missingField("version") }
        guard case .string(let versionText) = version else { throw .wrongType(field: "version", expected: "string") }
        guard versionText == "4" else { throw .unsupportedVersion(versionText) }
        let receiver = try requireString(value, "receiver")
        let status = try requireString(value, "status")
        guard status == "firing" || status == "resolved" else {
            throw .invalidValue(field: "status", reason: "must be \"firing\" or \"resolved\"")
        }
        let groupKey = try requireString(value, "groupKey")
        _ = try requireString(value, "externalURL")
        let groupLabels = try requireObject(value, "groupLabels")
        _ = try requireObject(value, "commonLabels")
        _ = try requireObject(value, "commonAnnotations")
        var truncated = 0
        if let truncatedValue = value["truncatedAlerts"] {
            guard case .integer(let digits) = truncatedValue, let count = Int(digits), count >= 0 else {
                throw .wrongType(field: "truncatedAlerts", expected: "non-negative integer")
            }
            truncated = count
        }
        guard let alertsValue = value["alerts"] else { throw .missingField("alerts") }
        guard case .array(let alertValues) = alertsValue else { throw .wrongType(field: "alerts", expected: "array") }
        guard !alertValues.isEmpty else { throw .invalidValue(field: "alerts", reason: "is empty") }
        var alerts: [WebhookAlert] = []
        alerts.reserveCapacity(alertValues.count)
        for (index, alertValue) in alertValues.enumerated() {
            let path = "alerts[\(index)]"
            guard case .object = alertValue else { throw .wrongType(field: path, expected: "object") }
            let alertStatus = try requireString(alertValue, "status", path: path)
            guard alertStatus == "firing" || alertStatus == "resolved" else {
                throw .invalidValue(field: "\(path).status", reason: "must be \"firing\" or \"resolved\"")
            }
            let labels = try requireObject(alertValue, "labels", path: path)
            var alertname: String? = nil
            for member in labels {
                guard case .string(let labelValue) = member.value else {
                    throw .wrongType(field: "\(path).labels.\(member.key)", expected: "string")
                }
                if member.key == "alertname" { alertname = labelValue }
            }
            let annotations = try requireObject(alertValue, "annotations", path: path)
            let startsAt = try requireString(alertValue, "startsAt", path: path)
            guard let start = Timestamp(rfc3339: startsAt) else {
                throw .invalidValue(field: "\(path).startsAt", reason: "is not an RFC 3339 timestamp")
            }
            let endsAt = try requireString(alertValue, "endsAt", path: path)
            let fingerprint = try requireString(alertValue, "fingerprint", path: path)
            guard !fingerprint.isEmpty else { throw .invalidValue(field: "\(path).fingerprint", reason: "is empty") }
            alerts.append(
                WebhookAlert(
                    status: alertStatus,
                    fingerprint: fingerprint,
                    startsAt: startsAt,
                    start: start,
                    endsAt: endsAt,
                    alertname: alertname,
                    labelsJSON: PythonJSONEncoder.string(.object(labels)),
                    annotationsJSON: PythonJSONEncoder.string(.object(annotations))
                )
            )
        }
        if status == "firing" && !alerts.contains(where: { $0.status == "firing" }) {
            throw .invalidValue(field: "status", reason: "is \"firing\" but no alert is firing")
        }
        let groupAlertname = groupLabels.last(where: { $0.key == "alertname" })?.value.stringValue
        return WebhookPayload(
            receiver: receiver,
            status: status,
            groupKey: groupKey,
            truncatedAlerts: truncated,
            alerts: alerts,
            alertname: groupAlertname ?? alerts.first?.alertname
        )
    }

    private static func requireString(_ object: JSONValue, _ key: String, path: String? = nil) throws(QuarantineReason)
        -> String
    {
        let field = path.map { "\($0).\(key)" } ?? key
        guard let member = object[key] else { throw .missingField(field) }
        guard case .string(let text) = member else { throw .wrongType(field: field, expected: "string") }
        return text
    }

    private static func requireObject(_ object: JSONValue, _ key: String, path: String? = nil) throws(QuarantineReason)
        -> [(key: String, value: JSONValue)]
    {
        let field = path.map { "\($0).\(key)" } ?? key
        guard let member = object[key] else { throw .missingField(field) }
        guard case .object(let members) = member else { throw .wrongType(field: field, expected: "object") }
        return members
    }
}

/// Why an input unit was quarantined instead of stored.
package enum QuarantineReason: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case notJSON(String)
    case notAnObject(String)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case unsupportedVersion(String)
    case invalidValue(field: String, reason: String)

    package var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): return "too large: \(bytes) bytes, the limit is \(limit)"
        case .notJSON(let detail): return "not JSON: \(detail)"
        case .notAnObject(let type): return "not a webhook body: the JSON is \(type == "array" ? "an" : "a") \(type)"
        case .missingField(let field): return "missing field '\(field)'"
        case .wrongType(let field, let expected): return "field '\(field)' is not \(article(expected)) \(expected)"
        case .unsupportedVersion(let version): return "unsupported webhook version \"\(version)\" (expected \"4\")"
        case .invalidValue(let field, let reason): return "field '\(field)' \(reason)"
        }
    }

    private func article(_ word: String) -> String {
        word.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }
}

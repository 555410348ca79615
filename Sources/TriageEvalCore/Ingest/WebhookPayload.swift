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
    /// The largest size limit that may be set: 256 MiB, well inside SQLite's 1 GB string and blob limit.
    package static let maximumSizeLimit = 256 * 1024 * 1024

    /// What is wrong with a configured size limit, naming the flag, or nil when it is in 1...256 MiB.
    package static func sizeLimitProblem(_ limit: Int, flag: String) -> String? {
        guard limit > 0, limit <= maximumSizeLimit else {
            return "\(flag) must be between 1 and \(maximumSizeLimit) (256 MiB), not \(limit)"
        }
        return nil
    }

    /// One alert as found in the body, before its fields are checked.
    private struct RawAlert {
        var isObject = true
        var typeName = "object"
        var status: JSONValue?
        var labelsType: String?
        var alertname: String?
        var nonStringLabel: String?
        var annotationsType: String?
        var startsAt: JSONValue?
        var endsAt: JSONValue?
        var fingerprint: JSONValue?
    }

    /// Decodes and validates a body.
    ///
    /// The body is walked once, building only the small fields triage-eval needs and checking the rest (such as
    /// annotations) without building it; the JSON syntax is checked in full before any field is, so a body
    /// that is not JSON is always reported as such.
    /// - Parameter body: the exact bytes.
    /// - Returns: the payload.
    /// - Throws: ``QuarantineReason`` naming what is wrong.
    package static func decode(_ body: UnsafeBufferPointer<UInt8>) throws(QuarantineReason) -> WebhookPayload {
        if let offset = UTF8Validation.firstInvalidOffset(body) {
            throw .notJSON("invalid UTF-8 at byte \(offset)")
        }
        var options = JSONParser.Options.python
        options.inputIsValidUTF8 = true
        var cursor = JSONParser(bytes: body, options: options)
        var top: [String: JSONValue] = [:]
        var alertsType: String?
        var rawAlerts: [RawAlert] = []
        do {
            cursor.skipWhitespace()
            guard cursor.nextByte == UInt8(ascii: "{") else {
                let value = try JSONParser.parse(body, options: options)
                throw QuarantineReason.notAnObject(value.typeName)
            }
            try cursor.members(depth: 1) { key, cursor throws(JSONSyntaxError) in
                switch key {
                case "alerts":
                    guard cursor.nextByte == UInt8(ascii: "[") else {
                        alertsType = try cursor.value(depth: 1).typeName
                        rawAlerts = []
                        return
                    }
                    alertsType = "array"
                    var alerts: [RawAlert] = []
                    try cursor.elements(depth: 2) { _, cursor throws(JSONSyntaxError) in
                        alerts.append(try Self.rawAlert(&cursor))
                    }
                    rawAlerts = alerts
                case "receiver", "status", "groupKey", "externalURL", "version", "truncatedAlerts", "groupLabels",
                    "commonLabels":
                    top[key] = try cursor.value(depth: 1)
                case "commonAnnotations":
                    // Only its type matters here; the bytes are kept in the body.
                    if cursor.nextByte == UInt8(ascii: "{") {
                        try cursor.skipValue(depth: 1)
                        top[key] = .object([])
                    } else {
                        top[key] = try cursor.value(depth: 1)
                    }
                default:
                    try cursor.skipValue(depth: 1)
                }
            }
            try cursor.expectEnd()
        } catch let error as JSONSyntaxError {
            throw .notJSON(error.description)
        } catch let reason as QuarantineReason {
            throw reason
        } catch {
            throw .notJSON("\(error)")
        }
        let value = JSONValue.object(top.map { ($0.key, $0.value) })
        guard let version = top["version"] else { throw .missingField("version") }
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
        if let truncatedValue = top["truncatedAlerts"] {
            guard case .integer(let digits) = truncatedValue, let count = Int(digits), count >= 0 else {
                throw .wrongType(field: "truncatedAlerts", expected: "non-negative integer")
            }
            truncated = count
        }
        guard let alertsType else { throw .missingField("alerts") }
        guard alertsType == "array" else { throw .wrongType(field: "alerts", expected: "array") }
        guard !rawAlerts.isEmpty else { throw .invalidValue(field: "alerts", reason: "is empty") }
        var alerts: [WebhookAlert] = []
        alerts.reserveCapacity(rawAlerts.count)
        for (index, raw) in rawAlerts.enumerated() {
            let path = "alerts[\(index)]"
            guard raw.isObject else { throw .wrongType(field: path, expected: "object") }
            func string(_ member: JSONValue?, _ name: String) throws(QuarantineReason) -> String {
                guard let member else { throw .missingField("\(path).\(name)") }
                guard case .string(let text) = member else {
                    throw .wrongType(field: "\(path).\(name)", expected: "string")
                }
                return text
            }
            let alertStatus = try string(raw.status, "status")
            guard alertStatus == "firing" || alertStatus == "resolved" else {
                throw .invalidValue(field: "\(path).status", reason: "must be \"firing\" or \"resolved\"")
            }
            guard let labelsType = raw.labelsType else { throw .missingField("\(path).labels") }
            guard labelsType == "object" else { throw .wrongType(field: "\(path).labels", expected: "object") }
            if let key = raw.nonStringLabel { throw .wrongType(field: "\(path).labels.\(key)", expected: "string") }
            let alertname = raw.alertname
            guard let annotationsType = raw.annotationsType else { throw .missingField("\(path).annotations") }
            guard annotationsType == "object" else {
                throw .wrongType(field: "\(path).annotations", expected: "object")
            }
            let startsAt = try string(raw.startsAt, "startsAt")
            guard let start = Timestamp(rfc3339: startsAt) else {
                throw .invalidValue(field: "\(path).startsAt", reason: "is not an RFC 3339 timestamp")
            }
            let endsAt = try string(raw.endsAt, "endsAt")
            let fingerprint = try string(raw.fingerprint, "fingerprint")
            guard !fingerprint.isEmpty else { throw .invalidValue(field: "\(path).fingerprint", reason: "is empty") }
            alerts.append(
                WebhookAlert(
                    status: alertStatus,
                    fingerprint: fingerprint,
                    startsAt: startsAt,
                    start: start,
                    endsAt: endsAt,
                    alertname: alertname
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

    private static func rawAlert(_ cursor: inout JSONParser) throws(JSONSyntaxError) -> RawAlert {
        var raw = RawAlert()
        guard cursor.nextByte == UInt8(ascii: "{") else {
            raw.isObject = false
            raw.typeName = try cursor.value(depth: 2).typeName
            return raw
        }
        try cursor.members(depth: 3) { key, cursor throws(JSONSyntaxError) in
            switch key {
            case "status": raw.status = try cursor.value(depth: 3)
            case "labels":
                guard cursor.nextByte == UInt8(ascii: "{") else {
                    raw.labelsType = try cursor.value(depth: 3).typeName
                    return
                }
                raw.labelsType = "object"
                raw.alertname = nil
                raw.nonStringLabel = nil
                try cursor.members(depth: 4) { name, cursor throws(JSONSyntaxError) in
                    if cursor.nextByte != UInt8(ascii: "\"") {
                        if raw.nonStringLabel == nil { raw.nonStringLabel = name }
                        try cursor.skipValue(depth: 4)
                    } else if name == "alertname" {
                        raw.alertname = try cursor.parseString()
                    } else {
                        try cursor.skipValue(depth: 4)
                    }
                }
            case "startsAt": raw.startsAt = try cursor.value(depth: 3)
            case "endsAt": raw.endsAt = try cursor.value(depth: 3)
            case "fingerprint": raw.fingerprint = try cursor.value(depth: 3)
            case "annotations":
                if cursor.nextByte == UInt8(ascii: "{") {
                    try cursor.skipValue(depth: 3)
                    raw.annotationsType = "object"
                } else {
                    raw.annotationsType = try cursor.value(depth: 3).typeName
                }
            default:
                try cursor.skipValue(depth: 3)
            }
        }
        return raw
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
    /// The input broke (a truncated or corrupt gzip stream) inside or right after this unit.
    case brokenInput(reason: String, bytesRead: Int)
    case notJSON(String)
    case notAnObject(String)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case unsupportedVersion(String)
    case invalidValue(field: String, reason: String)

    package var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): return "too large: \(bytes) bytes, the limit is \(limit)"
        case .brokenInput(let reason, let bytesRead):
            return "input broken after \(bytesRead) byte(s) of this unit: \(reason); the rest of the file is lost"
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

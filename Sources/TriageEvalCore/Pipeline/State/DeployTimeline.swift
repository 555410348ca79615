import Foundation

/// A deploy timeline: when each service was rolled out, in production time.
///
/// Two forms are read, told apart by their first character:
/// - **JSON Lines** (`deploys.jsonl` in a corpus), one deploy a line:
///   `{"service", "namespace", "cluster", "start", "end", "revision"}` with RFC 3339 times; `service`, `start` and
///   `end` are required.
/// - **A Grafana annotation export** — the JSON array `GET /api/annotations?tags=deploy` answers, each
///   `{"time", "timeEnd", "tags", "text"}` with epoch milliseconds. The service, namespace, cluster and revision
///   come from `key:value` (or `key=value`) tags; the revision defaults to the annotation's text, the end to its
///   start. An annotation without a `service:` tag cannot be matched to an alert and is an error.
package struct DeployTimeline: Sendable, Equatable {
    /// One deploy.
    package struct Deploy: Sendable, Equatable {
        package var service: String
        package var namespace: String?
        package var cluster: String?
        /// Start and end, production time (Unix seconds).
        package var start: Double
        package var end: Double
        package var revision: String?
        /// `file:line` (JSON Lines) or `file[index]` (Grafana).
        package var source: String

        package init(
            service: String, namespace: String? = nil, cluster: String? = nil, start: Double, end: Double,
            revision: String? = nil, source: String = ""
        ) {
            self.service = service
            self.namespace = namespace
            self.cluster = cluster
            self.start = start
            self.end = end
            self.revision = revision
            self.source = source
        }
    }

    /// The deploys, by start time (ties in file order).
    package private(set) var deploys: [Deploy]
    /// The file they were read from (nil for a timeline built in code).
    package var path: String?
    private var byService: [String: [Int]] = [:]

    package init(_ deploys: [Deploy], path: String? = nil) {
        self.deploys = deploys.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
            .map(\.element)
        self.path = path
        for (index, deploy) in self.deploys.enumerated() { byService[deploy.service, default: []].append(index) }
    }

    package static func == (lhs: DeployTimeline, rhs: DeployTimeline) -> Bool {
        lhs.deploys == rhs.deploys && lhs.path == rhs.path
    }

    /// The name of a corpus's timeline.
    package static let corpusFileName = "deploys.jsonl"

    // MARK: - Matching

    /// What an alert says about where it fires: the labels a deploy is matched on.
    package struct Target: Sendable, Hashable {
        package var service: String?
        package var namespace: String?
        package var deployment: String?
        package var cluster: String?

        package init(
            service: String? = nil, namespace: String? = nil, deployment: String? = nil, cluster: String? = nil
        ) {
            self.service = service
            self.namespace = namespace
            self.deployment = deployment
            self.cluster = cluster
        }

        /// An alert's target from its labels.
        package init(labels: [String: String]) {
            self.init(
                service: labels["service"], namespace: labels["namespace"], deployment: labels["deployment"],
                cluster: labels["cluster"])
        }
    }

    /// The distinct targets of a webhook body's alerts (`alerts[].labels`), in order. The body is walked, not
    /// parsed into a value: only the four labels a deploy is matched on are read (a repeated key: its last value,
    /// as `json.loads`); a body that is not JSON has none.
    package static func targets(body: [UInt8]) -> [Target] {
        body.withUnsafeBufferPointer { targets(body: $0) }
    }

    /// The same, from bytes read in place (a store's column, lent).
    package static func targets(body buffer: UnsafeBufferPointer<UInt8>) -> [Target] {
        var seen = Set<Target>()
        var targets: [Target] = []
        var cursor = JSONParser(bytes: buffer, options: .python)
        do throws(JSONSyntaxError) {
            cursor.skipWhitespace()
            guard cursor.nextByte == UInt8(ascii: "{") else { return [] }
            try cursor.rawMembers(depth: 1) { key, cursor throws(JSONSyntaxError) in
                guard key.equals("alerts"), cursor.nextByte == UInt8(ascii: "[") else {
                    try cursor.skipValue(depth: 1)
                    return
                }
                // A repeated key: its last value stands.
                seen.removeAll()
                targets.removeAll()
                try cursor.elements(depth: 2) { _, cursor throws(JSONSyntaxError) in
                    guard cursor.nextByte == UInt8(ascii: "{") else {
                        try cursor.skipValue(depth: 2)
                        return
                    }
                    var target = Target()
                    try cursor.rawMembers(depth: 3) { key, cursor throws(JSONSyntaxError) in
                        guard key.equals("labels"), cursor.nextByte == UInt8(ascii: "{") else {
                            try cursor.skipValue(depth: 3)
                            return
                        }
                        target = Target()
                        try cursor.rawMembers(depth: 4) { label, cursor throws(JSONSyntaxError) in
                            let field: WritableKeyPath<Target, String?>? =
                                label.equals("service")
                                ? \.service
                                : label.equals("namespace")
                                    ? \.namespace
                                    : label.equals("deployment")
                                        ? \.deployment : label.equals("cluster") ? \.cluster : nil
                            guard let field else {
                                try cursor.skipValue(depth: 4)
                                return
                            }
                            target[keyPath: field] = try cursor.value(depth: 4).stringValue
                        }
                    }
                    if seen.insert(target).inserted { targets.append(target) }
                }
            }
        } catch {
            return []
        }
        return targets
    }

    /// Targets as the store keeps them beside a delivery's digest (`deliveryEvent.targets`): a JSON list of
    /// `[service, namespace, deployment, cluster]` lists, `null` for a label an alert lacks.
    package static func storedText(_ targets: [Target]) -> String {
        PythonJSONEncoder.string(
            .array(
                targets.map { target in
                    .array(
                        [target.service, target.namespace, target.deployment, target.cluster].map {
                            $0.map(JSONValue.string) ?? .null
                        })
                }))
    }

    /// Targets read back from ``storedText(_:)``; nil for a text that is not such a list.
    package static func targets(storedText text: String) -> [Target]? {
        guard let elements = (try? JSONParser.parse(text))?.arrayElements else { return nil }
        var targets: [Target] = []
        targets.reserveCapacity(elements.count)
        for element in elements {
            guard let fields = element.arrayElements, fields.count == 4 else { return nil }
            var values: [String?] = []
            for field in fields {
                if case .null = field {
                    values.append(nil)
                } else {
                    guard let value = field.stringValue else { return nil }
                    values.append(value)
                }
            }
            targets.append(Target(service: values[0], namespace: values[1], deployment: values[2], cluster: values[3]))
        }
        return targets
    }

    /// Whether a deploy is of an alert's service: the alert's `service` label names it, or — for an alert without
    /// one — its `namespace` and `deployment` labels do. Where both name a cluster, the clusters must agree (a
    /// deploy to one cluster says nothing about another).
    package static func matches(_ deploy: Deploy, _ target: Target) -> Bool {
        if let cluster = target.cluster, let deployCluster = deploy.cluster, cluster != deployCluster { return false }
        if let service = target.service { return service == deploy.service }
        guard let namespace = target.namespace, let deployment = target.deployment else { return false }
        return deployment == deploy.service && namespace == deploy.namespace
    }

    /// Whether any deploy of the timeline could match an alert with this target (``matches(_:_:)`` needs the
    /// deploy's service to be the target's service, or its deployment): a target no deploy names can be let go.
    package func mayMatch(_ target: Target) -> Bool {
        guard let name = target.service ?? target.deployment else { return false }
        return byService[name] != nil
    }

    /// The first deploy (by start) of any of the targets' services whose window, as `window` gives it, holds
    /// `time`.
    package func first(
        matching targets: some Sequence<Target>, at time: Double, window: (Deploy) -> ClosedOpenWindow
    ) -> Int? {
        var best: Int?
        for target in targets {
            guard let name = target.service ?? target.deployment, let candidates = byService[name] else { continue }
            for index in candidates where best.map({ index < $0 }) ?? true {
                let deploy = deploys[index]
                if Self.matches(deploy, target), window(deploy).contains(time) {
                    best = index
                    break
                }
            }
        }
        return best
    }

    /// A half-open interval of production time, `[from, until)`.
    package struct ClosedOpenWindow: Sendable, Equatable {
        package var from: Double
        package var until: Double

        package func contains(_ time: Double) -> Bool { from <= time && time < until }
    }

    // MARK: - Reading

    /// Reads a timeline file (JSON Lines or a Grafana annotation export).
    /// - Throws: ``ConfigError`` naming the file, the line (or the annotation's index) and the field.
    package static func load(path: String) throws -> DeployTimeline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, keyPath: "", message: "cannot read the deploy timeline")
        }
        let text = String(decoding: data, as: UTF8.self)
        let first = text.unicodeScalars.first { !CharacterSet.whitespacesAndNewlines.contains($0) }
        let deploys = first == "[" ? try grafana(text, path: path) : try jsonLines(text, path: path)
        return DeployTimeline(deploys, path: path)
    }

    private static let lineKeys: Set<String> = ["service", "namespace", "cluster", "start", "end", "revision"]

    static func jsonLines(_ text: String, path: String) throws -> [Deploy] {
        var deploys: [Deploy] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ key: String, _ message: String) -> ConfigError {
                ConfigError(file: path, line: number, keyPath: key, message: message)
            }
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let value: JSONValue
            do {
                value = try JSONParser.parse(String(line))
            } catch {
                throw fail("", "not JSON: \(error)")
            }
            guard let members = value.objectMembers else { throw fail("", "must be a JSON object") }
            var fields: [String: String] = [:]
            for (key, member) in members {
                guard lineKeys.contains(key) else {
                    throw fail(key, "unknown field (fields: \(lineKeys.sorted().joined(separator: ", ")))")
                }
                guard fields[key] == nil else { throw fail(key, "repeated field") }
                if case .null = member { continue }
                guard let string = member.stringValue else { throw fail(key, "must be a string") }
                fields[key] = string
            }
            guard let service = fields["service"], !service.isEmpty else { throw fail("service", "missing (required)") }
            func time(_ key: String) throws -> Double {
                guard let text = fields[key] else { throw fail(key, "missing (required)") }
                guard let stamp = Timestamp(rfc3339: text) else {
                    throw fail(key, "must be an RFC 3339 time such as 2026-12-03T19:32:12Z, not '\(text)'")
                }
                return Double(stamp.seconds) + Double(stamp.nanoseconds) / 1e9
            }
            let start = try time("start")
            let end = try time("end")
            guard end >= start else { throw fail("end", "is before start") }
            deploys.append(
                Deploy(
                    service: service, namespace: fields["namespace"], cluster: fields["cluster"], start: start,
                    end: end, revision: fields["revision"], source: "\(path):\(number)"))
        }
        return deploys
    }

    static func grafana(_ text: String, path: String) throws -> [Deploy] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw ConfigError(file: path, line: nil, keyPath: "", message: "not JSON: \(error)")
        }
        guard let annotations = value.arrayElements else {
            throw ConfigError(
                file: path, line: nil, keyPath: "", message: "a Grafana annotation export must be a JSON array")
        }
        var deploys: [Deploy] = []
        for (index, annotation) in annotations.enumerated() {
            func fail(_ key: String, _ message: String) -> ConfigError {
                ConfigError(file: path, line: nil, keyPath: "[\(index)].\(key)", message: message)
            }
            guard annotation.objectMembers != nil else { throw fail("", "must be a JSON object") }
            func milliseconds(_ key: String) throws -> Double? {
                switch annotation[key] {
                case nil, .null?: return nil
                case .integer(let digits)?: return Double(digits).map { $0 / 1000 }
                case .double(let number)?: return number / 1000
                default: throw fail(key, "must be epoch milliseconds")
                }
            }
            guard let start = try milliseconds("time") else { throw fail("time", "missing (required)") }
            // Grafana writes timeEnd = time for a point annotation, and 0 in some versions' exports.
            let end = try milliseconds("timeEnd").flatMap { $0 > 0 ? $0 : nil } ?? start
            guard end >= start else { throw fail("timeEnd", "is before time") }
            var fields: [String: String] = [:]
            for tag in annotation["tags"]?.arrayElements ?? [] {
                guard let tag = tag.stringValue,
                    let separator = tag.firstIndex(where: { $0 == ":" || $0 == "=" })
                else { continue }
                let key = String(tag[..<separator])
                let value = String(tag[tag.index(after: separator)...])
                if fields[key] == nil, !value.isEmpty { fields[key] = value }
            }
            guard let service = fields["service"] else {
                throw fail("tags", "no 'service:NAME' tag: the deploy cannot be matched to an alert")
            }
            let text = annotation["text"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            deploys.append(
                Deploy(
                    service: service, namespace: fields["namespace"], cluster: fields["cluster"], start: start,
                    end: end, revision: fields["revision"] ?? text, source: "\(path)[\(index)]"))
        }
        return deploys
    }
}

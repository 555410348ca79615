import Foundation
import Yams

/// The user's pipeline manifests: EventSources, Sensors and WorkflowTemplates read from YAML files and folders
/// (several documents per file allowed), each part with the file and line it came from.
///
/// Only what dispatch and lint read is kept; a document of another kind (a ConfigMap, the Alertmanager config)
/// is counted and otherwise left alone, and a document with an `actions:` list and no `kind` is taken for an
/// action catalog (``catalogFiles``), which `pipeline lint` uses when it is given none.
package struct PipelineManifests: Sendable {
    /// Where a part was read.
    package struct Location: Sendable, Equatable, CustomStringConvertible {
        package var file: String
        package var line: Int?

        package var description: String { line.map { "\(file):\($0)" } ?? file }

        package init(file: String, line: Int?) {
            self.file = file
            self.line = line
        }
    }

    package struct EventSource: Sendable {
        package var name: String
        package var location: Location
        /// Its NATS events by event name.
        package var nats: [NATSEvent]
        /// Its event names of other types (webhook, …), with the type.
        package var otherEvents: [(type: String, name: String, location: Location)]
    }

    /// One `spec.nats.<eventName>` entry.
    package struct NATSEvent: Sendable {
        package var eventName: String
        package var subject: String?
        package var jsonBody: Bool
        package var metadata: [(key: String, value: String)]
        package var location: Location
    }

    package struct Sensor: Sendable {
        package var name: String
        package var location: Location
        package var dependencies: [Dependency]
        package var triggers: [Trigger]
    }

    package struct Dependency: Sendable {
        package var name: String
        package var eventSourceName: String
        package var eventName: String
        package var dataFilters: [DataFilter]
        /// `filters.dataLogicalOperator: or`: one passing data filter is enough (else all must pass).
        package var dataFiltersOr: Bool
        /// Filters triage-eval does not evaluate (`exprs`, `time`, `context`, `script`), by key.
        package var otherFilters: [String]
        package var location: Location
    }

    /// One `filters.data` entry: the value at `path` must equal one of `value` (a string: match the regular
    /// expression; a number: compare with `comparator`; a bool: equal).
    package struct DataFilter: Sendable {
        package var path: String
        package var type: String
        package var values: [String]
        package var comparator: String?
        /// `template`: a Go template over `{"Input": the value's text}` whose output is compared instead.
        package var template: String?
        package var location: Location
    }

    package struct Trigger: Sendable {
        package var name: String
        package var location: Location
        /// `argoWorkflow`, `k8s`, `http`, `log`, …: the trigger type under `template`.
        package var type: String
        package var operation: String?
        /// The resource the trigger submits (`source.resource`), as JSON.
        package var resource: JSONValue?
        package var resourceLocation: Location?
        /// `{{ … }}` written inside the resource, with the line of each string that holds one.
        package var literalTemplates: [(text: String, location: Location)]
        /// The resource's parameters (`argoWorkflow.parameters` / `k8s.parameters`).
        package var parameters: [Parameter]
        /// The trigger's own `parameters` (applied to the trigger template, not the resource).
        package var templateParameters: [Parameter]
        /// The trigger's `conditions`, when set.
        package var conditions: String?
    }

    package struct Parameter: Sendable {
        package var dependencyName: String
        package var dataKey: String?
        package var dataTemplate: String?
        package var contextKey: String?
        package var contextTemplate: String?
        package var value: String?
        /// `useRawData`: a number, boolean, null or JSON block at the key is set as itself, not as its text.
        package var useRawData: Bool
        package var dest: String
        package var operation: String?
        package var location: Location

        package init(
            dependencyName: String, dataKey: String? = nil, dataTemplate: String? = nil, contextKey: String? = nil,
            contextTemplate: String? = nil, value: String? = nil, useRawData: Bool = false, dest: String,
            operation: String? = nil, location: Location
        ) {
            self.dependencyName = dependencyName
            self.dataKey = dataKey
            self.dataTemplate = dataTemplate
            self.contextKey = contextKey
            self.contextTemplate = contextTemplate
            self.value = value
            self.useRawData = useRawData
            self.dest = dest
            self.operation = operation
            self.location = location
        }
    }

    package struct WorkflowTemplate: Sendable {
        package var name: String
        package var location: Location
        /// `spec.arguments.parameters`: name, default (`value`), line.
        package var parameters: [(name: String, value: String?, location: Location)]
        package var activeDeadlineSeconds: Int?
        /// The text of every script `source` and container `args`/`command`, for lint.
        package var scripts: [(text: String, location: Location)]
        /// `spec.templates`: each template's name, its script text (source, command and args joined) and, for a
        /// `steps` or `dag` template, its steps in order.
        package var templates: [Template] = []
        /// `spec.entrypoint`.
        package var entrypoint: String?
        /// `spec.parallelism` (pods within one Workflow) and whether `spec.synchronization` is set.
        package var parallelism: Int?
        package var synchronized = false
    }

    /// One template of a WorkflowTemplate's `spec.templates`.
    package struct Template: Sendable {
        package var name: String
        package var script: String?
        package var location: Location
        /// Its steps (`steps` groups flattened, or `dag.tasks`), in order.
        package var steps: [Step]
    }

    /// A step of a `steps` template, or a task of a `dag`.
    package struct Step: Sendable {
        package var name: String
        package var template: String?
        /// Its `when` expression.
        package var when: String?
        /// The group it belongs to (steps), or -1 (a DAG's tasks).
        package var group: Int
        package var location: Location
    }

    /// The Argo Workflows controller's ConfigMap (`workflow-controller-configmap`), when the manifests hold it:
    /// its `parallelism` and `namespaceParallelism`.
    package var controllerParallelism: (limit: Int?, namespaceLimit: Int?, location: Location)?

    package var eventSources: [EventSource] = []
    package var sensors: [Sensor] = []
    package var workflowTemplates: [WorkflowTemplate] = []
    /// Files holding an action catalog document.
    package var catalogFiles: [String] = []
    /// Documents of other kinds, as `file:line kind`.
    package var otherDocuments: [String] = []
    /// Every file read.
    package var files: [String] = []

    package init() {}

    package func workflowTemplate(named name: String) -> WorkflowTemplate? {
        workflowTemplates.first { $0.name == name }
    }

    /// Reads files and folders (a folder: its `.yaml`/`.yml` files, recursively, in name order).
    /// - Throws: ``ConfigError`` naming the file and line of what cannot be read.
    package static func load(paths: [String]) throws -> PipelineManifests {
        var manifests = PipelineManifests()
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw ConfigError(file: path, line: nil, keyPath: "", message: "no such file or folder")
            }
            let files = isFolder.boolValue ? try yamlFiles(in: path) : [path]
            for file in files {
                try manifests.read(text: YAMLReader.text(path: file), file: file)
            }
        }
        return manifests
    }

    private static func yamlFiles(in folder: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw ConfigError(file: folder, line: nil, keyPath: "", message: "cannot list the folder")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            files.append((folder as NSString).appendingPathComponent(relative))
        }
        return files.sorted()
    }

    /// Reads one file's documents.
    /// - Throws: ``ConfigError``.
    package mutating func read(text: String, file: String) throws {
        files.append(file)
        if let violation = YAMLBounds.violation(in: text) {
            throw ConfigError(file: file, line: violation.line, keyPath: "", message: violation.message)
        }
        var documents: [Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let document = try parser.nextRoot() { documents.append(document) }
        } catch {
            throw ConfigError(file: file, line: nil, keyPath: "", message: "not valid YAML: \(error)")
        }
        for document in documents {
            var reader = ManifestReader(file: file)
            try reader.rejectRepeatedKeys(document, "")
            guard case .mapping = document else {
                if case .scalar(let scalar) = document, scalar.string.isEmpty { continue }
                throw reader.error(document, "", "a manifest must be a mapping")
            }
            guard let kindNode = document["kind"] else {
                if document["actions"] != nil {
                    catalogFiles.append(file)
                    continue
                }
                throw reader.error(
                    document, "kind", "a manifest needs a 'kind' (EventSource, Sensor, WorkflowTemplate)")
            }
            let kind = try reader.string(kindNode, "kind")
            let name = try document["metadata"]?["name"].map { try reader.string($0, "metadata.name") } ?? ""
            reader.document = "\(kind) \(name)"
            switch kind {
            case "EventSource": eventSources.append(try reader.eventSource(document, name: name))
            case "Sensor": sensors.append(try reader.sensor(document, name: name))
            case "WorkflowTemplate", "ClusterWorkflowTemplate":
                workflowTemplates.append(try reader.workflowTemplate(document, name: name))
            case "ConfigMap" where name == "workflow-controller-configmap":
                controllerParallelism = try reader.controllerParallelism(document)
            default: otherDocuments.append("\(reader.location(document)) \(kind)")
            }
        }
    }
}

/// Reads the parts of a manifest document, with errors naming the file, line and key path.
struct ManifestReader {
    let file: String
    /// `Kind name`, for messages.
    var document = ""

    init(file: String) {
        self.file = file
    }

    func location(_ node: Node?) -> PipelineManifests.Location {
        PipelineManifests.Location(file: file, line: node?.mark?.line)
    }

    func error(_ node: Node?, _ keyPath: String, _ message: String) -> ConfigError {
        ConfigError(
            file: file, line: node?.mark?.line, keyPath: keyPath,
            message: document.isEmpty ? message : "\(document): \(message)")
    }

    /// Kubernetes' YAML reader (go-yaml) refuses a mapping with a repeated key; so does this one.
    func rejectRepeatedKeys(_ node: Node, _ keyPath: String) throws {
        switch node {
        case .mapping(let mapping):
            var seen = Set<String>()
            for (key, value) in mapping {
                let name = key.scalar?.string ?? ""
                let path = keyPath.isEmpty ? name : "\(keyPath).\(name)"
                guard seen.insert(name).inserted else { throw error(key, path, "repeated key '\(name)'") }
                try rejectRepeatedKeys(value, path)
            }
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() { try rejectRepeatedKeys(element, "\(keyPath)[\(index)]") }
        case .scalar:
            break
        }
    }

    func string(_ node: Node, _ keyPath: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw error(node, keyPath, "must be a string") }
        return scalar.string
    }

    func optionalString(_ node: Node?, _ keyPath: String) throws -> String? {
        guard let node else { return nil }
        if case .scalar(let scalar) = node, scalar.style == .plain, ["", "~", "null"].contains(scalar.string) {
            return nil
        }
        return try string(node, keyPath)
    }

    func mapping(_ node: Node?, _ keyPath: String) throws -> [(key: String, node: Node)] {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else { throw error(node, keyPath, "must be a mapping") }
        var members: [(key: String, node: Node)] = []
        for (key, value) in mapping {
            members.append((try string(key, keyPath), value))
        }
        return members
    }

    func sequence(_ node: Node?, _ keyPath: String) throws -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else { throw error(node, keyPath, "must be a list") }
        return Array(sequence)
    }

    func bool(_ node: Node?, _ keyPath: String) throws -> Bool {
        guard let node else { return false }
        guard case .scalar(let scalar) = node, ["true", "false", "True", "False"].contains(scalar.string) else {
            throw error(node, keyPath, "must be true or false")
        }
        return scalar.string.lowercased() == "true"
    }

    func eventSource(_ document: Node, name: String) throws -> PipelineManifests.EventSource {
        let spec = document["spec"]
        var nats: [PipelineManifests.NATSEvent] = []
        var others: [(type: String, name: String, location: PipelineManifests.Location)] = []
        for (type, events) in try mapping(spec, "spec") {
            // Not event types: the service, the bus, replicas, the pod template.
            guard !["service", "eventBusName", "replicas", "template"].contains(type) else { continue }
            for (eventName, event) in try mapping(events, "spec.\(type)") {
                let path = "spec.\(type).\(eventName)"
                if type == "nats" {
                    let metadata = try mapping(event["metadata"], "\(path).metadata").map {
                        (key: $0.key, value: try string($0.node, "\(path).metadata.\($0.key)"))
                    }
                    nats.append(
                        PipelineManifests.NATSEvent(
                            eventName: eventName, subject: try optionalString(event["subject"], "\(path).subject"),
                            jsonBody: try bool(event["jsonBody"], "\(path).jsonBody"), metadata: metadata,
                            location: location(event)))
                } else {
                    others.append((type, eventName, location(event)))
                }
            }
        }
        return PipelineManifests.EventSource(
            name: name, location: location(document), nats: nats, otherEvents: others)
    }

    func sensor(_ document: Node, name: String) throws -> PipelineManifests.Sensor {
        let spec = document["spec"]
        var dependencies: [PipelineManifests.Dependency] = []
        for (index, node) in try sequence(spec?["dependencies"], "spec.dependencies").enumerated() {
            let path = "spec.dependencies[\(index)]"
            var dataFilters: [PipelineManifests.DataFilter] = []
            var otherFilters: [String] = []
            var dataOr = false
            for (key, filter) in try mapping(node["filters"], "\(path).filters") {
                if key == "dataLogicalOperator" {
                    let logical = try optionalString(filter, "\(path).filters.dataLogicalOperator") ?? ""
                    guard ["", "and", "or"].contains(logical) else {
                        throw error(filter, "\(path).filters.dataLogicalOperator", "must be 'and' or 'or'")
                    }
                    dataOr = logical == "or"
                    continue
                }
                guard key == "data" else {
                    otherFilters.append(key)
                    continue
                }
                for (position, entry) in try sequence(filter, "\(path).filters.data").enumerated() {
                    let entryPath = "\(path).filters.data[\(position)]"
                    dataFilters.append(
                        PipelineManifests.DataFilter(
                            path: try optionalString(entry["path"], "\(entryPath).path") ?? "",
                            type: try optionalString(entry["type"], "\(entryPath).type") ?? "",
                            values: try sequence(entry["value"], "\(entryPath).value").map {
                                try string($0, "\(entryPath).value")
                            },
                            comparator: try optionalString(entry["comparator"], "\(entryPath).comparator"),
                            template: try optionalString(entry["template"], "\(entryPath).template"),
                            location: location(entry)))
                }
            }
            if node["filtersLogicalOperator"] != nil { otherFilters.append("filtersLogicalOperator") }
            dependencies.append(
                PipelineManifests.Dependency(
                    name: try optionalString(node["name"], "\(path).name") ?? "",
                    eventSourceName: try optionalString(node["eventSourceName"], "\(path).eventSourceName") ?? "",
                    eventName: try optionalString(node["eventName"], "\(path).eventName") ?? "",
                    dataFilters: dataFilters, dataFiltersOr: dataOr, otherFilters: otherFilters,
                    location: location(node)))
        }
        var triggers: [PipelineManifests.Trigger] = []
        for (index, node) in try sequence(spec?["triggers"], "spec.triggers").enumerated() {
            let path = "spec.triggers[\(index)]"
            let template = node["template"]
            var type = ""
            var body: Node?
            for (key, value) in try mapping(template, "\(path).template")
            where !["name", "conditions", "conditionsReset"].contains(key) {
                type = key
                body = value
            }
            let resourceNode = body?["source"]?["resource"]
            var literals: [(text: String, location: PipelineManifests.Location)] = []
            if let resourceNode { collectTemplates(resourceNode, into: &literals) }
            triggers.append(
                PipelineManifests.Trigger(
                    name: try optionalString(template?["name"], "\(path).template.name") ?? "",
                    location: location(node), type: type,
                    operation: try optionalString(body?["operation"], "\(path).template.\(type).operation"),
                    resource: try resourceNode.map { try PyYAMLLoader.value(of: $0, path: "\(path).source.resource") },
                    resourceLocation: resourceNode.map(location), literalTemplates: literals,
                    parameters: try parameters(body?["parameters"], "\(path).template.\(type).parameters"),
                    templateParameters: try parameters(node["parameters"], "\(path).parameters"),
                    conditions: try optionalString(template?["conditions"], "\(path).template.conditions")))
        }
        return PipelineManifests.Sensor(
            name: name, location: location(document), dependencies: dependencies, triggers: triggers)
    }

    private func collectTemplates(
        _ node: Node, into literals: inout [(text: String, location: PipelineManifests.Location)]
    ) {
        switch node {
        case .scalar(let scalar):
            if scalar.string.contains("{{") { literals.append((scalar.string, location(node))) }
        case .mapping(let mapping):
            for (key, value) in mapping {
                collectTemplates(key, into: &literals)
                collectTemplates(value, into: &literals)
            }
        case .sequence(let sequence):
            for element in sequence { collectTemplates(element, into: &literals) }
        }
    }

    private func parameters(_ node: Node?, _ keyPath: String) throws -> [PipelineManifests.Parameter] {
        try sequence(node, keyPath).enumerated().map { index, entry in
            let path = "\(keyPath)[\(index)]"
            let src = entry["src"]
            return PipelineManifests.Parameter(
                dependencyName: try optionalString(src?["dependencyName"], "\(path).src.dependencyName") ?? "",
                dataKey: try optionalString(src?["dataKey"], "\(path).src.dataKey"),
                dataTemplate: try optionalString(src?["dataTemplate"], "\(path).src.dataTemplate"),
                contextKey: try optionalString(src?["contextKey"], "\(path).src.contextKey"),
                contextTemplate: try optionalString(src?["contextTemplate"], "\(path).src.contextTemplate"),
                value: try src?["value"].map { try string($0, "\(path).src.value") },
                useRawData: try bool(src?["useRawData"], "\(path).src.useRawData"),
                dest: try optionalString(entry["dest"], "\(path).dest") ?? "",
                operation: try optionalString(entry["operation"], "\(path).operation"),
                location: location(entry))
        }
    }

    func workflowTemplate(_ document: Node, name: String) throws -> PipelineManifests.WorkflowTemplate {
        let spec = document["spec"]
        var parameters: [(name: String, value: String?, location: PipelineManifests.Location)] = []
        for (index, node) in try sequence(spec?["arguments"]?["parameters"], "spec.arguments.parameters").enumerated() {
            let path = "spec.arguments.parameters[\(index)]"
            parameters.append(
                (
                    try optionalString(node["name"], "\(path).name") ?? "",
                    try node["value"].map { try string($0, "\(path).value") }, location(node)
                ))
        }
        var deadline: Int?
        if let node = spec?["activeDeadlineSeconds"] {
            guard case .scalar(let scalar) = node, let seconds = Int(scalar.string) else {
                throw error(node, "spec.activeDeadlineSeconds", "must be a whole number of seconds")
            }
            deadline = seconds
        }
        var scripts: [(text: String, location: PipelineManifests.Location)] = []
        var templates: [PipelineManifests.Template] = []
        for (index, template) in try sequence(spec?["templates"], "spec.templates").enumerated() {
            let path = "spec.templates[\(index)]"
            var texts: [String] = []
            for key in ["script", "container"] {
                guard let body = template[key] else { continue }
                for field in ["source", "command", "args"] {
                    guard let node = body[field] else { continue }
                    switch node {
                    case .scalar(let scalar):
                        scripts.append((scalar.string, location(node)))
                        texts.append(scalar.string)
                    case .sequence(let sequence):
                        let text = sequence.compactMap { $0.scalar?.string }.joined(separator: " ")
                        scripts.append((text, location(node)))
                        texts.append(text)
                    default: break
                    }
                }
            }
            var steps: [PipelineManifests.Step] = []
            for (group, node) in try sequence(template["steps"], "\(path).steps").enumerated() {
                // A group is a list of parallel steps (a single step may be written without the list).
                let members: [Node] = if case .sequence(let parallel) = node { Array(parallel) } else { [node] }
                for member in members { steps.append(try step(member, group: group, path: "\(path).steps")) }
            }
            for node in try sequence(template["dag"]?["tasks"], "\(path).dag.tasks") {
                steps.append(try step(node, group: -1, path: "\(path).dag.tasks"))
            }
            templates.append(
                PipelineManifests.Template(
                    name: try optionalString(template["name"], "\(path).name") ?? "",
                    script: texts.isEmpty ? nil : texts.joined(separator: "\n"), location: location(template),
                    steps: steps))
        }
        var parallelism: Int?
        if let node = spec?["parallelism"] {
            guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
                throw error(node, "spec.parallelism", "must be a whole number")
            }
            parallelism = value
        }
        var workflowTemplate = PipelineManifests.WorkflowTemplate(
            name: name, location: location(document), parameters: parameters, activeDeadlineSeconds: deadline,
            scripts: scripts)
        workflowTemplate.templates = templates
        workflowTemplate.entrypoint = try optionalString(spec?["entrypoint"], "spec.entrypoint")
        workflowTemplate.parallelism = parallelism
        workflowTemplate.synchronized = spec?["synchronization"] != nil
        return workflowTemplate
    }

    private func step(_ node: Node, group: Int, path: String) throws -> PipelineManifests.Step {
        PipelineManifests.Step(
            name: try optionalString(node["name"], "\(path).name") ?? "",
            template: try optionalString(node["template"], "\(path).template"),
            when: try optionalString(node["when"], "\(path).when"), group: group, location: location(node))
    }

    /// `data.parallelism` and `data.namespaceParallelism` of the controller's ConfigMap.
    func controllerParallelism(
        _ document: Node
    ) throws -> (limit: Int?, namespaceLimit: Int?, location: PipelineManifests.Location) {
        func number(_ key: String) throws -> Int? {
            guard let node = document["data"]?[key] else { return nil }
            guard case .scalar(let scalar) = node, let value = Int(scalar.string), value >= 0 else {
                throw error(node, "data.\(key)", "must be a whole number")
            }
            return value
        }
        return (try number("parallelism"), try number("namespaceParallelism"), location(document))
    }
}

import TriageEvalCore

/// A YAML file read by each of triage-eval's YAML readers: as a scenario, as a catalog (production's PyYAML
/// loader, then the catalog's checks and its lint) and as a label file.
///
/// Properties: every reader either accepts the text or throws its own error type, which names the file (a raw
/// Yams, Foundation or decoding error names none); a catalog the loader accepts can also be linted, and its
/// prompt JSON reads back as the catalog's value.
enum YAMLFuzzing {
    static let incidents = [
        IncidentFacts(
            id: "inc-0000000000000001", receiver: "sre", alertname: "KubePodCrashLooping",
            labels: ["alertname": "KubePodCrashLooping", "namespace": "shop", "severity": "critical"]),
        IncidentFacts(id: "inc-0000000000000002", receiver: "sre", alertname: nil, labels: [:]),
    ]

    static func check(_ input: UnsafeBufferPointer<UInt8>) -> [String] {
        guard let text = String(validating: input, as: UTF8.self) else { return [] }
        var problems: [String] = []
        do {
            _ = try Scenario.parse(text: text, path: "fuzz/scenario.yaml")
        } catch let error as ConfigError {
            if error.file.isEmpty { problems.append("a scenario error names no file: \(error)") }
        } catch is CatalogError {
            // A scenario naming a catalog reads it; its errors name that file.
        } catch {
            problems.append("the scenario reader threw a raw \(type(of: error)): \(error)")
        }
        do {
            let catalog = try Catalog.parse(text: text, path: "fuzz/catalog.yaml", format: "yaml")
            let prompt = try? JSONParser.parse(catalog.promptJSON, options: .python)
            if prompt != catalog.value { problems.append("the catalog's prompt JSON does not read back as it") }
            do {
                _ = try CatalogLint().lint(text: text, path: "fuzz/catalog.yaml")
            } catch {
                problems.append("a catalog the loader accepts cannot be linted: \(error)")
            }
        } catch is CatalogError {
            // Not a catalog: the error names the file.
        } catch {
            problems.append("the catalog reader threw a raw \(type(of: error)): \(error)")
        }
        do {
            _ = try LabelFile.parse(
                text: text, path: "fuzz/labels.yaml", catalog: DecisionFuzzing.catalog, incidents: incidents,
                knownIncidents: Set(incidents.map(\.id)))
        } catch let error as ConfigError {
            if error.file.isEmpty { problems.append("a label error names no file: \(error)") }
        } catch {
            problems.append("the label reader threw a raw \(type(of: error)): \(error)")
        }
        return problems
    }
}

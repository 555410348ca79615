import Foundation

/// Errors building prompts.
package enum PlannerError: LocalizedError, Equatable {
    case templateUnreadable(path: String)
    case templateWithoutPlaceholder(path: String)
    case eventNotJSON(incidentId: String, reason: String)

    package var errorDescription: String? {
        switch self {
        case .templateUnreadable(let path): return "\(path): cannot read the system prompt template"
        case .templateWithoutPlaceholder(let path):
            return "\(path): the template has no \(Planner.placeholder) placeholder for the catalog"
        case .eventNotJSON(let incidentId, let reason): return "\(incidentId): the stored event is not JSON: \(reason)"
        }
    }
}

/// Builds the exact prompts production sends: the system prompt embeds `json.dumps(CATALOG, indent=2)` in the
/// seed's template; the user message is `json.dumps(event)`.
package struct Planner: Sendable {
    /// Where the catalog JSON goes in a template.
    package static let placeholder = "{catalog_json}"

    /// The seed's template (production's `SYSTEM` f-string), byte for byte, with no trailing newline.
    package static let seedTemplate = """
        You are a remediation planner. Pick zero or more actions from this catalog:
        {catalog_json}
        Return JSON matching the Decision schema. Never invent action names. Set
        needs_human=true if you're below 0.7 confidence or the situation is novel.
        """

    /// The template text.
    package var template: String
    /// The catalog.
    package var catalog: Catalog

    /// Creates a planner.
    package init(catalog: Catalog, template: String = Planner.seedTemplate) {
        self.catalog = catalog
        self.template = template
    }

    /// Reads a template file (its bytes verbatim: no newline is added or removed).
    /// - Throws: ``PlannerError``.
    package static func loadTemplate(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw PlannerError.templateUnreadable(path: path) }
        guard text.contains(placeholder) else { throw PlannerError.templateWithoutPlaceholder(path: path) }
        return text
    }

    /// The system prompt.
    package var systemPrompt: String {
        template.replacingOccurrences(of: Self.placeholder, with: catalog.promptJSON)
    }

    /// The version of ``userMessage(eventJSON:)``'s output stored with digests of it (`deliveryEvent`): raised
    /// whenever a change could alter a single byte of a user message, so that no digest of the old bytes is used.
    package static let userMessageEncoding = 1

    /// The user message for an event given as JSON text: `json.dumps(json.loads(event))`.
    /// - Throws: ``JSONSyntaxError`` when the event is not JSON.
    package static func userMessage(eventJSON: some Collection<UInt8>) throws(JSONSyntaxError) -> String {
        // One pass over the bytes when it can (most events), the parsed value when it must.
        let fast =
            eventJSON.withContiguousStorageIfAvailable { PythonJSONRedump.redump($0) }
            ?? Array(eventJSON).withUnsafeBufferPointer { PythonJSONRedump.redump($0) }
        if let fast { return String(decoding: fast, as: UTF8.self) }
        return try generalUserMessage(eventJSON: eventJSON)
    }

    /// ``userMessage(eventJSON:)`` through the parsed value: the reference the one-pass path is tested against.
    package static func generalUserMessage(eventJSON: some Collection<UInt8>) throws(JSONSyntaxError) -> String {
        let value = try JSONParser.parse(Array(eventJSON), options: .python)
        return PythonJSONEncoder.string(value)
    }
}

/// One model call as production makes it, and the keys it is cached under.
package struct ModelRequest: Sendable {
    /// `anthropic` or `openai`.
    package var provider: String
    /// The model id.
    package var model: String
    /// The system prompt.
    package var system: String
    /// The user message (`json.dumps(event)`).
    package var user: String
    /// `max_tokens`.
    package var maxTokens: Int
    /// Sampling temperature, when set.
    package var temperature: Double?
    /// `response_format` (OpenAI-compatible servers), passed through.
    package var responseFormat: JSONValue?
    /// Other decoding parameters.
    package var params: [(key: String, value: JSONValue)]
    /// The sample index.
    package var sample: Int

    package init(
        provider: String, model: String, system: String, user: String, maxTokens: Int, temperature: Double?,
        responseFormat: JSONValue?, params: [(key: String, value: JSONValue)], sample: Int
    ) {
        self.provider = provider
        self.model = model
        self.system = system
        self.user = user
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.responseFormat = responseFormat
        self.params = params
        self.sample = sample
    }

    /// The request key: SHA-256 of a canonical form (keys sorted at every level, compact) of everything that
    /// shapes the answer — provider, model, system text, messages, max_tokens, temperature, response_format,
    /// other params and the sample index. A key without the model would answer model B with model A's replies.
    package var requestSha256: String {
        let canonical: JSONValue = .object([
            ("provider", .string(provider)),
            ("model", .string(model)),
            ("system", .string(system)),
            ("messages", .array([.object([("role", .string("user")), ("content", .string(user))])])),
            ("max_tokens", .integer(String(maxTokens))),
            ("temperature", temperature.map { .double($0) } ?? .null),
            ("response_format", responseFormat ?? .null),
            ("params", .object(params)),
            ("sample", .integer(String(sample))),
        ])
        return Digest.sha256Hex(PythonJSONEncoder.encode(Self.sortedKeys(canonical)))
    }

    /// SHA-256 of the user message: with (incident, provider, model, sample), the event key.
    package var userSha256: String { Digest.sha256Hex(user) }

    /// SHA-256 of the system prompt.
    package var systemSha256: String { Digest.sha256Hex(system) }

    private static func sortedKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(
                members.map { ($0.key, sortedKeys($0.value)) }.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            )
        case .array(let elements): return .array(elements.map(sortedKeys))
        default: return value
        }
    }
}

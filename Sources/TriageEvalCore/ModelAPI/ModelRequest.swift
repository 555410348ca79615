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
    /// SHA-256 of the system prompt.
    package let systemSha256: String
    /// SHA-256 of the user message: with (incident, provider, model, sample), the event key.
    package let userSha256: String

    /// Creates a request; the hashes of the prompts may be passed in when the caller has them already.
    package init(
        provider: String, model: String, system: String, user: String, maxTokens: Int, temperature: Double?,
        responseFormat: JSONValue?, params: [(key: String, value: JSONValue)], sample: Int,
        systemSha256: String? = nil, userSha256: String? = nil
    ) {
        self.systemSha256 = systemSha256 ?? Digest.sha256Hex(system)
        self.userSha256 = userSha256 ?? Digest.sha256Hex(user)
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

    /// The request key: SHA-256 of a canonical form (keys sorted at every level, compact JSON) of everything that
    /// shapes the answer — provider, model, the system text and the user message (by their SHA-256), max_tokens,
    /// temperature, response_format, other params and the sample index. A key without the model would answer
    /// model B with model A's replies.
    package var requestSha256: String {
        let canonical: JSONValue = .object([
            ("provider", .string(provider)),
            ("model", .string(model)),
            ("system_sha256", .string(systemSha256)),
            ("messages", .array([.object([("role", .string("user")), ("content_sha256", .string(userSha256))])])),
            ("max_tokens", .integer(String(maxTokens))),
            ("temperature", temperature.map { .double($0) } ?? .null),
            ("response_format", responseFormat ?? .null),
            ("params", .object(params)),
            ("sample", .integer(String(sample))),
        ])
        return Digest.sha256Hex(PythonJSONEncoder.encode(Self.sortedKeys(canonical)))
    }

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

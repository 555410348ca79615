import Foundation

/// An HTTP request to a model API, without its secret (added by the client from the environment).
package struct HTTPRequest: Sendable {
    /// The full URL.
    package var url: URL
    /// Headers other than the API key.
    package var headers: [(String, String)]
    /// The JSON body.
    package var body: [UInt8]
    /// Seconds to wait.
    package var timeout: Double

    package init(url: URL, headers: [(String, String)], body: [UInt8], timeout: Double) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// An HTTP response.
package struct HTTPResponse: Sendable {
    /// The status code.
    package var status: Int
    /// Headers, names lowercased.
    package var headers: [String: String]
    /// The body.
    package var body: [UInt8]
}

/// What a completed call said.
package struct ProviderReply: Sendable, Equatable {
    /// The reply text production reads (nil when the response had none).
    package var text: String?
    /// Why generation stopped (`max_tokens` for a cut-off reply, whatever the provider's spelling).
    package var stopReason: String?
    /// The provider's usage object, as JSON.
    package var usage: JSONValue?
    /// Prompt tokens.
    package var inputTokens: Int?
    /// Completion tokens.
    package var outputTokens: Int?
    /// A note when the response was unusual (other content blocks, a malformed body).
    package var note: String?
}

/// The two API shapes triage-eval speaks.
package enum Provider: String, Sendable {
    /// Anthropic Messages API, called exactly as production calls it.
    case anthropic
    /// OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama).
    case openai

    /// The HTTP request for a model call.
    /// - Parameters:
    ///   - request: the call.
    ///   - baseURL: the API's base URL (`https://api.anthropic.com`, `http://127.0.0.1:8088`).
    ///   - timeout: seconds to wait.
    package func httpRequest(for request: ModelRequest, baseURL: String, timeout: Double) -> HTTPRequest {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        var members: [(key: String, value: JSONValue)]
        let path: String
        var headers: [(String, String)] = [("content-type", "application/json")]
        switch self {
        case .anthropic:
            path = "/v1/messages"
            headers.append(("anthropic-version", "2023-06-01"))
            members = [
                ("model", .string(request.model)),
                ("max_tokens", .integer(String(request.maxTokens))),
                ("system", .string(request.system)),
                ("messages", .array([.object([("role", .string("user")), ("content", .string(request.user))])])),
            ]
        case .openai:
            path = "/v1/chat/completions"
            members = [
                ("model", .string(request.model)),
                (
                    "messages",
                    .array([
                        .object([("role", .string("system")), ("content", .string(request.system))]),
                        .object([("role", .string("user")), ("content", .string(request.user))]),
                    ])
                ),
                ("max_tokens", .integer(String(request.maxTokens))),
            ]
            if let responseFormat = request.responseFormat { members.append(("response_format", responseFormat)) }
        }
        if let temperature = request.temperature { members.append(("temperature", .double(temperature))) }
        members.append(contentsOf: request.params)
        return HTTPRequest(
            url: URL(string: base + path)!, headers: headers, body: PythonJSONEncoder.encode(.object(members)),
            timeout: timeout)
    }

    /// The header carrying the API key, with its value.
    package func authorization(key: String) -> (String, String) {
        switch self {
        case .anthropic: return ("x-api-key", key)
        case .openai: return ("authorization", "Bearer \(key)")
        }
    }

    /// Reads a 2xx response body: the text production reads (`content[0].text`, or
    /// `choices[0].message.content`), the stop reason and the usage. A body that is not the expected shape gives
    /// a reply without text and a note: it is the model service's answer, stored as such.
    package func parse(body: [UInt8]) -> ProviderReply {
        guard let value = try? JSONParser.parse(body, options: .python), case .object = value else {
            return ProviderReply(note: "the response body is not a JSON object")
        }
        func int(_ value: JSONValue?) -> Int? {
            if case .integer(let digits)? = value { return Int(digits) }
            return nil
        }
        switch self {
        case .anthropic:
            let blocks = value["content"]?.arrayElements ?? []
            var note: String? = nil
            if blocks.count > 1 { note = "\(blocks.count) content blocks; production reads content[0].text" }
            let text = blocks.first?["text"]?.stringValue
            if text == nil { note = "no content[0].text in the response" }
            let usage = value["usage"]
            return ProviderReply(
                text: text, stopReason: value["stop_reason"]?.stringValue, usage: usage,
                inputTokens: int(usage?["input_tokens"]), outputTokens: int(usage?["output_tokens"]), note: note)
        case .openai:
            let choice = value["choices"]?.arrayElements?.first
            let text = choice?["message"]?["content"]?.stringValue
            var stop = choice?["finish_reason"]?.stringValue
            if stop == "length" { stop = "max_tokens" }
            let usage = value["usage"]
            return ProviderReply(
                text: text, stopReason: stop, usage: usage, inputTokens: int(usage?["prompt_tokens"]),
                outputTokens: int(usage?["completion_tokens"]),
                note: text == nil ? "no choices[0].message.content in the response" : nil)
        }
    }
}

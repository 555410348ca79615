import TriageEvalCore

/// An Alertmanager webhook body, as ingest decodes it and the planner turns it into a user message.
///
/// Properties, for a body the decoder accepts (production's `json.loads` then reads it):
/// - its event (the body with `"incident_id"` inserted) is JSON, and `json.dumps(json.loads(event))` — the user
///   message — succeeds;
/// - the user message's first key is `incident_id`;
/// - the user message is `json.dumps` of itself read back (Python's encoder output is a fixed point).
///
/// For any input at all: when the one-pass `json.dumps(json.loads(…))` (``PythonJSONRedump``) gives a text, the
/// general path through the parsed value gives the same text.
enum WebhookFuzzing {
    static let incidentId = "inc-0123456789abcdef"

    static func check(_ input: UnsafeBufferPointer<UInt8>) -> [String] {
        if let fast = PythonJSONRedump.redump(input) {
            let general = try? Planner.generalUserMessage(eventJSON: input)
            if general != String(decoding: fast, as: UTF8.self) {
                return ["one pass and the general path differ: \(String(decoding: fast.prefix(200), as: UTF8.self))"]
            }
        }
        guard (try? WebhookPayload.decode(input)) != nil else { return [] }
        let event = DeliveryWriter.event(body: input, incidentId: incidentId)
        let message: String
        do {
            message = try Planner.userMessage(eventJSON: event)
        } catch {
            return ["an accepted body's event is not JSON: \(error)"]
        }
        let reread: JSONValue
        do {
            reread = try JSONParser.parse(message, options: .python)
        } catch {
            return ["the user message does not read back: \(error)"]
        }
        var problems: [String] = []
        if reread.objectMembers?.first?.key != "incident_id" {
            problems.append("the user message does not start with incident_id: \(message.prefix(200))")
        }
        let again = PythonJSONEncoder.string(reread)
        if again != message {
            problems.append("json.dumps is not a fixed point: \(message.prefix(200)) / \(again.prefix(200))")
        }
        return problems
    }
}

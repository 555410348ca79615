/// The inputs libFuzzer drives through triage-eval (`scripts/fuzz`), and the properties each must keep.
///
/// A target's ``check(_:)`` runs one input the way triage-eval runs untrusted input of that kind and returns the
/// properties it broke. A crash, a hang or an overflow is the sanitizer's to report; what is checked here is what
/// only this code knows is wrong: two paths that must agree and do not, an output that does not read back as
/// itself, an error that names no file. The same function runs under libFuzzer (`triage-eval-fuzz` built with
/// `-sanitize=fuzzer`, which aborts on a broken property), from the command line on saved inputs, and in the
/// tests over the committed seed and regression corpora.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// A model reply through production's validator (both of its paths), its router and the strict policy.
    case decision
    /// An Alertmanager webhook body through the ingest decoder and, when accepted, the planner's event.
    case webhook
    /// A YAML file read as a scenario, as a catalog (loader and lint) and as a label file.
    case yaml

    /// The broken properties, empty when the input is handled as it must be.
    package func check(_ input: UnsafeBufferPointer<UInt8>) -> [String] {
        switch self {
        case .decision: return DecisionFuzzing.check(input)
        case .webhook: return WebhookFuzzing.check(input)
        case .yaml: return YAMLFuzzing.check(input)
        }
    }

    /// ``check(_:)`` on an array of bytes.
    package func check(_ input: [UInt8]) -> [String] {
        input.withUnsafeBufferPointer { check($0) }
    }
}

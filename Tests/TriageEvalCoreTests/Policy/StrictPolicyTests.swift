import Testing
import TriageEvalCore

@Suite struct StrictPolicyTests {
    static let catalog = try! Catalog.load(path: Fixtures.path("parity/prompt/seed-actions.yaml"))
    static let validator = DecisionValidator(allowedNames: catalog.actionNames)

    static func violations(_ actions: String) -> [String] {
        let decision = validator.validate(
            #"{"incident_id":"i","actions":[\#(actions)],"confidence":0.9,"needs_human":false}"#
        ).decision!
        return StrictPolicy(catalog: catalog).check(decision).map {
            "\($0.actionIndex):\($0.kind.rawValue):\($0.param)"
        }
    }

    static func restart(namespace: String = "shop", selector: String) -> String {
        #"{"name":"restart_pods","params":{"namespace":"\#(namespace)","selector":"\#(selector)"},"rationale":""}"#
    }

    @Test func aCleanDecisionPasses() {
        #expect(Self.violations(Self.restart(selector: "app=frontend")).isEmpty)
        #expect(Self.violations(Self.restart(selector: "app in (a,b), tier!=cache, !canary")).isEmpty)
        #expect(Self.violations(Self.restart(selector: "app.kubernetes.io/name=catalog")).isEmpty)
    }

    @Test func paramsAreExactlyTheDeclaredOnes() {
        #expect(
            Self.violations(#"{"name":"restart_pods","params":{"namespace":"shop","pods":"x"},"rationale":""}"#)
                == ["0:missing_param:selector", "0:extra_param:pods"])
    }

    @Test(arguments: [
        "--all-namespaces=true", "", "app=frontend; rm -rf /", "app=$(whoami)", "app=a|b", "=x", "app in a",
    ])
    func badSelectorsFail(_ selector: String) {
        #expect(Self.violations(Self.restart(selector: selector)) == ["0:invalid_selector:selector"])
    }

    @Test(arguments: ["Shop", "-shop", "shop-", "", "a_b", String(repeating: "a", count: 64)])
    func badNamespacesFail(_ namespace: String) {
        #expect(
            Self.violations(Self.restart(namespace: namespace, selector: "app=a")) == ["0:invalid_namespace:namespace"])
    }

    @Test func replicasMustBeADecimalIntegerWithinTheBound() {
        func scale(_ replicas: String) -> [String] {
            Self.violations(
                #"{"name":"scale_up","params":{"namespace":"shop","deployment":"api","replicas":"\#(replicas)"},"rationale":""}"#
            )
        }
        #expect(scale("30").isEmpty)
        #expect(scale("31") == ["0:replicas_above_max:replicas"])
        #expect(scale("6.0") == ["0:replicas_not_integer:replicas"])
        #expect(scale("-1") == ["0:replicas_not_integer:replicas"])
        #expect(scale("ten") == ["0:replicas_not_integer:replicas"])
        #expect(scale("99999999999999999999999") == ["0:replicas_above_max:replicas"])
    }

    @Test func patternsNeedALiteralPrefix() {
        func clear(_ pattern: String) -> [String] {
            Self.violations(
                #"{"name":"clear_redis_keys","params":{"cluster":"c","pattern":"\#(pattern)"},"rationale":""}"#)
        }
        #expect(clear("session:*").isEmpty)
        #expect(clear("*") == ["0:pattern_without_prefix:pattern"])
        #expect(clear("?ession") == ["0:pattern_without_prefix:pattern"])
        #expect(clear("[a-z]*") == ["0:pattern_without_prefix:pattern"])
    }

    @Test func violationsNameTheActionIndex() {
        let both = Self.violations(Self.restart(selector: "app=a") + "," + Self.restart(selector: ""))
        #expect(both == ["1:invalid_selector:selector"])
    }
}

// The Swift side of the scripts/bench-* benchmarks: runs one core operation in a loop and prints what it did
// and how long it took as one JSON line. Not part of the triage-eval command line.
import Foundation
import TriageEvalCore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("triage-eval-bench: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments.dropFirst()
guard let mode = arguments.first else { fail("usage: triage-eval-bench decision TEXTS.jsonl CATALOG ROUNDS") }

switch mode {
case "decision":
    let rest = Array(arguments.dropFirst())
    guard rest.count == 3, let rounds = Int(rest[2]) else { fail("usage: decision TEXTS.jsonl CATALOG ROUNDS") }
    let catalog = try Catalog.load(path: rest[1])
    // The texts are read first, as strings (as a run reads replies from the store), so that only
    // decode + validate + route is timed.
    let texts: [String] = try String(contentsOfFile: rest[0], encoding: .utf8).split(separator: "\n").map {
        let value = try JSONParser.parse(String($0))
        guard let text = value["text"]?.stringValue else { fail("each line needs a \"text\"") }
        return text
    }
    let validator = DecisionValidator(allowedNames: catalog.actionNames)
    let router = Router(threshold: 0.7, approvalGate: false, approvalRequired: [])
    var routes = [0, 0, 0]
    let start = DispatchTime.now()
    for _ in 0..<rounds {
        for text in texts {
            let verdict = validator.validate(text)
            switch router.route(verdict).route {
            case .execute: routes[0] += 1
            case .approve: routes[1] += 1
            case .escalate: routes[2] += 1
            }
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    print(
        #"{"decisions": \#(texts.count * rounds), "seconds": \#(seconds), "execute": \#(routes[0]), "approve": \#(routes[1]), "escalate": \#(routes[2])}"#
    )
default:
    fail("unknown mode '\(mode)'")
}

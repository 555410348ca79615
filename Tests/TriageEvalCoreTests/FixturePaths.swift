import Foundation

/// Fixture files next to the tests.
enum Fixtures {
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }

    static func path(_ relative: String) -> String { (directory as NSString).appendingPathComponent(relative) }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// The lines of a JSON Lines fixture, each parsed with Foundation (independently of the code under test).
    static func jsonLines(_ relative: String) throws -> [[String: Any]] {
        try text(relative).split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as! [String: Any]
        }
    }
}

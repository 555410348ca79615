import Foundation

/// An error in a YAML configuration file (scenario, labels), naming the file, line and key path.
package struct ConfigError: LocalizedError, Equatable {
    /// The file.
    package var file: String
    /// The 1-based line, when known.
    package var line: Int?
    /// The key path (`model.name`, `labels.inc-…actions[0]`).
    package var keyPath: String
    /// What is wrong.
    package var message: String

    package init(file: String, line: Int?, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    package var errorDescription: String? {
        let location = line.map { "\(file):\($0)" } ?? file
        return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}

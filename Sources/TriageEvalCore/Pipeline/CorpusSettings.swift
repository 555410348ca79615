import Foundation

/// What a corpus folder says about itself in its optional `corpus.yaml`.
///
/// ```yaml
/// time_scale: 60     # the corpus was recorded with every timer and duration divided by 60
/// ```
package struct CorpusSettings: Sendable, Equatable {
    /// How many times fast the corpus's clock ran when it was recorded: production time is the first message's
    /// receive time plus each recorded offset × this (1: recorded in real time).
    package var timeScale: Double = 1

    package init(timeScale: Double = 1) {
        self.timeScale = timeScale
    }

    /// The file's name in a corpus folder.
    package static let fileName = "corpus.yaml"

    /// Reads a corpus folder's `corpus.yaml`; the defaults when there is none.
    /// - Throws: ``ConfigError`` naming the file, line and key.
    package static func load(directory: String) throws -> CorpusSettings {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return CorpusSettings() }
        let reader = YAMLReader(file: path)
        let root = try YAMLReader.root(text: try YAMLReader.text(path: path), file: path)
        var settings = CorpusSettings()
        for (key, node, _) in try reader.mapping(root, "", allowed: ["time_scale", "description"]) {
            switch key {
            case "time_scale":
                let scale = try reader.double(node, key)
                guard scale > 0, scale <= 1_000_000 else {
                    throw reader.error(node, key, "must be a number above 0 and at most 1000000")
                }
                settings.timeScale = scale
            default:
                _ = try reader.string(node, key)
            }
        }
        return settings
    }
}

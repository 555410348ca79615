import Foundation
import TriageEvalCore

/// A unique temporary directory, removed by ``remove()``.
package struct TemporaryDirectory: Sendable {
    /// The directory's path.
    package let path: String

    /// Creates a fresh directory under the system's temporary folder.
    package init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "triage-eval-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    /// A path inside the directory.
    package func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes bytes to a file inside the directory and returns its path.
    @discardableResult
    package func write(_ name: String, _ contents: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Removes the directory and everything in it.
    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A fresh SQLite store in its own temporary directory.
package struct TemporaryStore {
    /// The directory holding the store.
    package let directory: TemporaryDirectory
    /// The store.
    package let store: Store

    /// Creates and migrates a store file in a new temporary directory.
    package init() throws {
        directory = try TemporaryDirectory()
        store = try Store(path: directory.file("test.sqlite"))
    }

    /// Removes the store and its directory.
    package func remove() { directory.remove() }
}

/// Locations in the repository, found from this source file, so tests run from any working directory.
package enum Repository {
    /// The repository root.
    package static var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// A path relative to the repository root.
    package static func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
}

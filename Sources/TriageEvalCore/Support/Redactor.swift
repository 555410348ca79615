#if canImport(Glibc)
import Glibc
#endif

/// Replaces a secret (the model API key) with `[redacted]` wherever a provider, or a proxy in front of it, may
/// echo it: reply bodies, error texts, transport errors. Applied before anything is stored, logged or reported.
///
/// Besides the whole key, the tail after a well-known prefix (`sk-ant-api03-`, `sk-proj-`, `sk-`, …) is
/// redacted too, since a proxy that masks the prefix (`sk-***…tail`) still prints the rest; tails shorter than
/// ``minimumTail`` are left alone, as they would match ordinary text.
package struct Redactor: Sendable {
    /// What replaces a secret.
    package static let replacement = Array("[redacted]".utf8)
    /// Prefixes of API keys in common use, longest first.
    package static let knownPrefixes = [
        "sk-ant-api03-", "sk-ant-admin01-", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-",
    ]
    /// The shortest secret (or tail) redacted.
    package static let minimumTail = 8

    private let needles: [[UInt8]]

    /// A redactor for one secret (nil or a short one: nothing to redact).
    package init(secret: String?) {
        guard let secret, secret.utf8.count >= Self.minimumTail else {
            needles = []
            return
        }
        var needles = [Array(secret.utf8)]
        if let prefix = Self.knownPrefixes.first(where: { secret.hasPrefix($0) }) {
            let tail = Array(secret.utf8.dropFirst(prefix.utf8.count))
            if tail.count >= Self.minimumTail { needles.append(tail) }
        }
        self.needles = needles
    }

    /// Whether there is anything to redact.
    package var isEmpty: Bool { needles.isEmpty }

    /// The bytes with every occurrence of the secret (and its tail) replaced.
    package func redact(_ bytes: [UInt8]) -> [UInt8] {
        var output = bytes
        for needle in needles { output = Self.replace(needle, in: output) }
        return output
    }

    /// The text with every occurrence of the secret (and its tail) replaced.
    package func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        return String(decoding: redact(Array(text.utf8)), as: UTF8.self)
    }

    private static func replace(_ needle: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard haystack.count >= needle.count, let first = needle.first else { return haystack }
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        // memchr for the first byte, then compare: linear for the keys redacted here, whose first byte is rare.
        haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                let last = hay.count - pin.count
                while index <= last {
                    guard let found = memchr(hay.baseAddress! + index, Int32(first), last - index + 1) else { break }
                    let offset = UnsafeRawPointer(found) - hay.baseAddress!
                    if memcmp(found, pin.baseAddress!, pin.count) == 0 {
                        output += hay[copied..<offset]
                        output += replacement
                        index = offset + pin.count
                        copied = index
                    } else {
                        index = offset + 1
                    }
                }
            }
        }
        if copied == 0 && output.isEmpty { return haystack }
        output += haystack[copied...]
        return output
    }
}

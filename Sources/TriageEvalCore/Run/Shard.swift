import Crypto
import Foundation

/// One part of a run split across machines (`run --shard I/N`): the incidents whose stable hash falls in bucket
/// `I − 1` of `N`.
///
/// The bucket of an incident is the first eight bytes of the SHA-256 of its id's UTF-8 bytes, read as a
/// big-endian unsigned integer, modulo `N`. It depends on nothing but the id and `N` — not on the other incidents,
/// the corpus's file order or the machine — so every shard of a fan-out, started anywhere, agrees on who owns what,
/// and a merge can check each shard's results against it. (Python: `int.from_bytes(hashlib.sha256(id.encode())
/// .digest()[:8], "big") % N`.)
package struct Shard: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// From 1.
    package let index: Int
    /// How many shards the work is split into.
    package let count: Int

    /// The most shards a run can be split into.
    package static let maxCount = 10_000

    package init?(index: Int, count: Int) {
        guard (1...Self.maxCount).contains(count), (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N` (e.g. `2/3`), 1 ≤ I ≤ N.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
            let index = Int(parts[0]), let count = Int(parts[1])
        else { return nil }
        self.init(index: index, count: count)
    }

    /// `I/N`.
    package var description: String { "\(index)/\(count)" }

    /// The bucket (from 0) of an incident among `count` shards.
    package static func bucket(of incidentId: String, count: Int) -> Int {
        let digest = SHA256.hash(data: Array(incidentId.utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int(value % UInt64(count))
    }

    /// Whether this shard owns an incident.
    package func contains(_ incidentId: String) -> Bool {
        Self.bucket(of: incidentId, count: count) == index - 1
    }

    /// The whole run's shards, 1/N … N/N.
    package static func all(count: Int) -> [Shard] {
        (1...count).compactMap { Shard(index: $0, count: count) }
    }
}

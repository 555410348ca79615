import Crypto
import Foundation

/// SHA-256 digests as lowercase hexadecimal, the form every key in the store uses.
package enum Digest {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    package static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        let array = Array(bytes)
        hasher.update(data: array)
        return hex(hasher.finalize())
    }

    /// The SHA-256 of a buffer as 64 lowercase hex digits.
    package static func sha256Hex(_ buffer: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: buffer))
    }

    /// The SHA-256 of a string's UTF-8 bytes as 64 lowercase hex digits.
    package static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// A SHA-256 fed in pieces.
    package struct Hasher {
        private var state = SHA256()

        package init() {}

        /// Adds bytes.
        package mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }

        /// The digest of everything added so far, as lowercase hex.
        package func hex() -> String { Digest.hex(state.finalize()) }
    }

    /// A finished digest as lowercase hex.
    package static func hex(_ digest: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in digest {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}

import Testing
import TriageEvalCore

/// `capture`'s bearer-token comparison (constant time in the lengths), on hand-picked pairs.
@Suite struct CredentialMatchTests {
    static func matches(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        CaptureServer.matches(presented, expected)
    }

    @Test func onlyTheSameBytesMatch() {
        let token = Array("Bearer s3cret-token".utf8)
        #expect(Self.matches(token, token))
        #expect(!Self.matches(Array("Bearer s3cret-tokeN".utf8), token))
        #expect(!Self.matches(Array("Bearer s3cret-toke".utf8), token))
        #expect(!Self.matches(token + [0x20], token))
        #expect(!Self.matches([], token))
        #expect(Self.matches([], []))
        #expect(!Self.matches(token, []))
    }

    /// The lengths' XOR used to be folded into one byte: 256 extra NUL bytes (or any multiple of 256) made a
    /// longer credential match.
    @Test func extraNulBytesNeverMatch() {
        let token = Array("Bearer s3cret-token".utf8)
        for extra in [1, 255, 256, 512, 1_024] {
            #expect(!Self.matches(token + [UInt8](repeating: 0, count: extra), token), "\(extra) NUL bytes")
            #expect(!Self.matches(token, token + [UInt8](repeating: 0, count: extra)), "\(extra) NUL bytes")
        }
    }
}

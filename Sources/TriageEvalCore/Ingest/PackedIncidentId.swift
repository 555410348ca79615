/// An incident id as a number, for the tables that meet an incident once per message (a million times in a large
/// replay's report) and would otherwise make and hash a String each time.
///
/// Ingest makes every incident id `inc-` and 16 lowercase hex digits
/// (``DeliveryWriter/incidentId(receiver:groupKey:startsAt:)``): 64 bits, one number per id and one id per number.
/// An id of any other form has no number (nil), and its holder keys it by its text.
package enum PackedIncidentId {
    private static let prefix = Array("inc-".utf8)

    /// The number of the id spelled by `bytes` (UTF-8), or nil when it is not `inc-` and 16 lowercase hex digits.
    package static func value(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count == prefix.count + 16, bytes.starts(with: prefix) else { return nil }
        var value: UInt64 = 0
        for byte in bytes[prefix.count...] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// The number of `id`, or nil when it is not `inc-` and 16 lowercase hex digits.
    package static func value(_ id: String) -> UInt64? {
        var id = id
        return id.withUTF8 { value($0) }
    }
}

/// An incident id as a set or dictionary key that holds no String for an id ingest made (its number), so that a
/// replay can remember every incident it met in a few bytes each: what it keeps of an incident once the incident
/// is over is then small beside what it keeps of one open.
package enum IncidentKey: Hashable, Sendable {
    /// `inc-` and 16 lowercase hex digits, as their number.
    case packed(UInt64)
    /// Any other id, as its text.
    case text(String)

    package init(_ id: String) {
        self = PackedIncidentId.value(id).map(Self.packed) ?? .text(id)
    }
}

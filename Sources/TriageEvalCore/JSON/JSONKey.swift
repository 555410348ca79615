/// An object key compared as Python compares `str` keys: by code points.
///
/// Swift's `String` equality is canonical equivalence, so `"K"` equals the Kelvin sign `"\u{212A}"` and a
/// precomposed `"é"` equals `"e\u{301}"`; Python's `dict` (and so `json.loads` and pydantic's `dict[str, str]`)
/// keeps each of them as a key of its own. Keys are therefore compared and hashed by their UTF-8 bytes, which
/// are the code points.
struct JSONKey: Hashable {
    /// The key's text.
    var text: String

    /// Whether two keys are the same Python `str`.
    static func same(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && lhs.utf8.elementsEqual(rhs.utf8)
    }

    static func == (lhs: JSONKey, rhs: JSONKey) -> Bool { same(lhs.text, rhs.text) }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if hashed == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
    }
}

/// Where each distinct key of an object being built first appeared, so that repeated keys merge as Python's
/// `dict` merges them (the last value at the first key's position) in time linear in the number of members.
///
/// The owner keeps the distinct keys in a list and asks ``position(of:count:keyAt:)`` before adding each one.
/// Up to ``linearLimit`` keys the list itself is searched, because a real object has a handful of keys and a
/// hash table would cost more than it saves; past it the keys go into a hash table, so a hostile reply with a
/// million keys costs a million lookups, not half a trillion comparisons.
struct FirstOccurrenceIndex {
    /// The most keys searched one by one.
    static let linearLimit = 12

    private var positions: [JSONKey: Int] = [:]
    private var isHashed = false

    /// The position of `key` among the distinct keys so far, or nil when it is new: the owner then appends it
    /// at position `count`, where the index has recorded it.
    /// - Parameters:
    ///   - key: the key just read.
    ///   - count: how many distinct keys the owner holds.
    ///   - keyAt: the owner's key at a position below `count`.
    mutating func position(of key: String, count: Int, keyAt: (Int) -> String) -> Int? {
        if !isHashed {
            if count < Self.linearLimit {
                for position in 0..<count where JSONKey.same(keyAt(position), key) { return position }
                return nil
            }
            positions.reserveCapacity(count * 2)
            for position in 0..<count { positions[JSONKey(text: keyAt(position))] = position }
            isHashed = true
        }
        // One hash for a new key, the common case; a repeat puts its first position back.
        let entry = JSONKey(text: key)
        guard let existing = positions.updateValue(count, forKey: entry) else { return nil }
        positions[entry] = existing
        return existing
    }
}

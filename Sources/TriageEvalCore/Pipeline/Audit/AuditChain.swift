import Crypto

/// The seed's hash-chained audit log (`remediation_audit`): each workflow that ran appends a row, and
/// `this_hash = SHA-256(prev_hash ‖ row_bytes)` links it to the row before.
///
/// A chain can be checked only if the bytes that were hashed are kept as they were: `row_bytes` is the RFC 8785
/// canonical JSON of the row (``CanonicalJSON``) — `{"action", "created_at", "id", "incident_id", "params",
/// "result"}` — stored verbatim beside the columns it was made from. The first row's `prev_hash` is 32 zero bytes
/// (SQL's `NULL || x` is NULL, so a chain needs a defined genesis). Appends are serialized: one chain, no forks.
package struct AuditChain: Sendable {
    /// One `remediation_audit` row.
    package struct Row: Sendable, Equatable {
        /// 1, 2, … in append order.
        package var id: Int
        /// The incident id the workflow was given (the model's, through the Sensor).
        package var incidentId: String
        package var action: String
        /// The workflow's parameters other than the incident id, name → value.
        package var params: [(name: String, value: String)]
        package var result: String
        /// RFC 3339 UTC with milliseconds, production time.
        package var createdAt: String

        package init(
            id: Int, incidentId: String, action: String, params: [(name: String, value: String)], result: String,
            createdAt: String
        ) {
            self.id = id
            self.incidentId = incidentId
            self.action = action
            self.params = params
            self.result = result
            self.createdAt = createdAt
        }

        package static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.id == rhs.id && lhs.incidentId == rhs.incidentId && lhs.action == rhs.action
                && lhs.params.elementsEqual(rhs.params, by: { $0 == $1 }) && lhs.result == rhs.result
                && lhs.createdAt == rhs.createdAt
        }

        /// The row as a JSON object (its members in any order: the canonical form sorts them).
        package var json: JSONValue {
            .object([
                ("id", .integer(String(id))), ("incident_id", .string(incidentId)), ("action", .string(action)),
                ("params", .object(params.map { ($0.name, JSONValue.string($0.value)) })),
                ("result", .string(result)), ("created_at", .string(createdAt)),
            ])
        }

        /// The bytes hashed into the chain — ``CanonicalJSON`` of ``json``, written directly: the row's keys are
        /// fixed and already in order, and only the parameters need sorting. Nil when the parameters repeat a name
        /// (no canonical form).
        package var canonicalBytes: [UInt8]? {
            let sorted = params.sorted { $0.name.utf16.lexicographicallyPrecedes($1.name.utf16) }
            for index in sorted.indices.dropFirst() where sorted[index - 1].name == sorted[index].name { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(160)
            output.append(contentsOf: #"{"action":"#.utf8)
            CanonicalJSON.writeString(action, to: &output)
            output.append(contentsOf: #","created_at":"#.utf8)
            CanonicalJSON.writeString(createdAt, to: &output)
            output.append(contentsOf: #","id":"#.utf8)
            output.append(contentsOf: String(id).utf8)
            output.append(contentsOf: #","incident_id":"#.utf8)
            CanonicalJSON.writeString(incidentId, to: &output)
            output.append(contentsOf: #","params":{"#.utf8)
            for (index, param) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(param.name, to: &output)
                output.append(UInt8(ascii: ":"))
                CanonicalJSON.writeString(param.value, to: &output)
            }
            output.append(contentsOf: #"},"result":"#.utf8)
            CanonicalJSON.writeString(result, to: &output)
            output.append(UInt8(ascii: "}"))
            return output
        }
    }

    /// A row as the chain stores it.
    package struct Link: Sendable, Equatable {
        package var row: Row
        package var rowBytes: [UInt8]
        package var prevHash: [UInt8]
        package var thisHash: [UInt8]

        package init(row: Row, rowBytes: [UInt8], prevHash: [UInt8], thisHash: [UInt8]) {
            self.row = row
            self.rowBytes = rowBytes
            self.prevHash = prevHash
            self.thisHash = thisHash
        }
    }

    /// The genesis `prev_hash`.
    package static let genesis = [UInt8](repeating: 0, count: 32)

    /// The last row's hash (the genesis before the first).
    package private(set) var head = genesis
    /// How many rows were appended.
    package private(set) var count = 0

    package init() {}

    /// `SHA-256(prev ‖ bytes)`.
    package static func hash(prev: [UInt8], rowBytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prev)
        hasher.update(data: rowBytes)
        return Array(hasher.finalize())
    }

    /// Appends a row made from a workflow that ran; its id is the next one.
    package mutating func append(
        incidentId: String, action: String, params: [(name: String, value: String)], result: String,
        createdAt: String
    ) -> Link {
        var params = params
        // A workflow's arguments have distinct names; should two repeat one, the last wins as in a JSON object.
        // (A few arguments: a pairwise check costs less than a set.)
        let repeats = params.indices.contains { i in params[(i + 1)...].contains { $0.name == params[i].name } }
        if repeats {
            var seen = Set<String>()
            params = params.reversed().filter { seen.insert($0.name).inserted }.reversed()
        }
        let row = Row(
            id: count + 1, incidentId: incidentId, action: action, params: params, result: result,
            createdAt: createdAt)
        let bytes = row.canonicalBytes!
        let link = Link(row: row, rowBytes: bytes, prevHash: head, thisHash: Self.hash(prev: head, rowBytes: bytes))
        head = link.thisHash
        count += 1
        return link
    }

    // MARK: - Verifying

    /// Where a stored chain breaks.
    package struct Break: Sendable, Equatable, CustomStringConvertible {
        package enum Kind: String, Sendable {
            /// The row's columns are not what its `row_bytes` say (a column was edited).
            case rowEdited = "row_edited"
            /// `this_hash` is not SHA-256(prev_hash ‖ row_bytes) (the hash or the bytes were edited).
            case hashMismatch = "hash_mismatch"
            /// `prev_hash` is not the previous row's `this_hash` (rows removed, inserted or reordered).
            case brokenLink = "broken_link"
            /// Ids do not run 1, 2, … (a row removed or the order changed).
            case idOutOfOrder = "id_out_of_order"
        }

        /// The position of the row in the order read (0-based) and its id.
        package var position: Int
        package var id: Int
        package var kind: Kind

        package init(position: Int, id: Int, kind: Kind) {
            self.position = position
            self.id = id
            self.kind = kind
        }

        package var description: String {
            switch kind {
            case .rowEdited:
                return "row \(id): its columns differ from its row_bytes (a column was edited after it was written)"
            case .hashMismatch:
                return "row \(id): this_hash is not SHA-256(prev_hash || row_bytes)"
            case .brokenLink:
                return "row \(id): prev_hash is not the this_hash of the row before it"
                    + (position == 0 ? " (the genesis: 32 zero bytes)" : "")
            case .idOutOfOrder:
                return "row \(id): found at position \(position + 1) of the chain (rows were removed or reordered)"
            }
        }
    }

    /// Checks a chain read in `id` order and returns the first row that breaks it (nil when it holds).
    package static func verify(_ links: some Sequence<Link>) -> Break? {
        var verifier = Verifier()
        for link in links {
            verifier.add(link)
            if let broken = verifier.firstBreak { return broken }
        }
        return nil
    }

    /// Checks a chain one link at a time, in `id` order, without holding it (a large replay's chain has hundreds of
    /// thousands of rows).
    package struct Verifier: Sendable {
        private var previous = AuditChain.genesis
        /// The links given so far.
        package private(set) var count = 0
        /// The last link's `this_hash`, nil before the first.
        package private(set) var head: [UInt8]?
        /// The first link that breaks the chain, once one has (the links after it are counted, not checked).
        package private(set) var firstBreak: Break?

        package init() {}

        package mutating func add(_ link: Link) {
            defer {
                count += 1
                head = link.thisHash
            }
            guard firstBreak == nil else { return }
            let position = count
            if link.row.id != position + 1 {
                firstBreak = Break(position: position, id: link.row.id, kind: .idOutOfOrder)
            } else if link.row.canonicalBytes != link.rowBytes {
                firstBreak = Break(position: position, id: link.row.id, kind: .rowEdited)
            } else if link.prevHash != previous {
                firstBreak = Break(position: position, id: link.row.id, kind: .brokenLink)
            } else if hash(prev: link.prevHash, rowBytes: link.rowBytes) != link.thisHash {
                firstBreak = Break(position: position, id: link.row.id, kind: .hashMismatch)
            }
            previous = link.thisHash
        }
    }
}

import Foundation
import GRDB
import GRDBSQLite

/// A prepared SQLite statement bound and stepped through the C API, for the hot paths: ingest, the runner's
/// result and reply inserts, and the report's scan of a run's results.
///
/// GRDB's `Statement.execute(arguments:)` builds an argument array per call; ingest runs a few statements per
/// delivery at tens of thousands of deliveries a second, so those statements bind directly from the bytes they
/// already hold. Everything else goes through GRDB.
final class RawStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    /// Prepares `sql` on the connection of `db`.
    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else { throw DatabaseError(message: "the connection is closed") }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        self.handle = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds text (copied by SQLite).
    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            _ = sqlite3_bind_text64(
                handle, index, UnsafeRawPointer(buffer.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) },
                sqlite3_uint64(buffer.count), Self.transient, UInt8(SQLITE_UTF8))
        }
    }

    /// Binds optional text (NULL when nil).
    func bind(_ index: Int32, _ text: String?) {
        if let text { bind(index, text) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds a blob (copied by SQLite); an empty one stays an empty blob, not NULL.
    func bind(_ index: Int32, blob: UnsafeBufferPointer<UInt8>) {
        if let base = blob.baseAddress, !blob.isEmpty {
            sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(blob.count), Self.transient)
        } else {
            sqlite3_bind_zeroblob(handle, index, 0)
        }
    }

    /// Binds an integer.
    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    /// Binds an optional integer (NULL when nil).
    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds a boolean as 0 or 1.
    func bind(_ index: Int32, _ value: Bool) { sqlite3_bind_int64(handle, index, value ? 1 : 0) }

    /// Binds an optional boolean (NULL when nil).
    func bind(_ index: Int32, _ value: Bool?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// The rowid of the last row inserted on this statement's connection.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }

    /// Binds an optional double (NULL when nil).
    func bind(_ index: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Text parameters gathered into one buffer, which ``run(texts:)`` binds in place: SQLite reads them during
    /// the step instead of copying each (a malloc and a copy per text column of every row).
    struct Texts {
        fileprivate var bytes: [UInt8] = []
        fileprivate var spans: [(index: Int32, start: Int, count: Int)] = []

        init() {}

        /// Adds parameter `index` (NULL when nil).
        mutating func add(_ index: Int32, _ text: String?) {
            guard let text else {
                spans.append((index, -1, 0))
                return
            }
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            spans.append((index, start, bytes.count - start))
        }

        /// Forgets the parameters, keeping the capacity.
        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            spans.removeAll(keepingCapacity: true)
        }
    }

    /// Binds `texts` in place and runs the statement (see ``run()``).
    func run(texts: Texts) throws {
        try texts.bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
            for span in texts.spans {
                if span.start < 0 {
                    sqlite3_bind_null(handle, span.index)
                } else if let base, span.count > 0 {
                    sqlite3_bind_text(handle, span.index, base + span.start, Int32(span.count), Self.static)
                } else {
                    sqlite3_bind_text(handle, span.index, "", 0, Self.transient)
                }
            }
            // Reset before the buffer goes: SQLite may read bound text until then.
            try run()
        }
    }

    /// Runs the statement to completion, then resets it for the next use.
    func run() throws {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    /// Runs a query and returns its first column of the first row as an integer, or nil when there is no row.
    func firstInteger() throws -> Int64? {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return sqlite3_column_int64(handle, 0) }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        return nil
    }

    // MARK: Reading rows

    /// Steps a query: true when a row is ready, false when done (then the statement is reset).
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        return false
    }

    /// Whether column `index` of the current row is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` of the current row as an integer (0 for NULL).
    func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    /// Column `index` as a double, nil for NULL.
    func double(_ index: Int32) -> Double? {
        sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_double(handle, index)
    }

    /// Column `index` as text, nil for NULL.
    func text(_ index: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// Column `index` of the current row as bytes, lent to `body` (no copy: valid until the next step or reset).
    func withBytes<T>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeBufferPointer(start: pointer?.assumingMemoryBound(to: UInt8.self), count: count))
    }

    /// Resets a query before it is done (its bindings stay).
    func reset() { sqlite3_reset(handle) }

    /// Whether column `index` holds exactly these bytes (no String is made).
    func textEquals(_ index: Int32, _ expected: StaticString) -> Bool {
        guard let pointer = sqlite3_column_text(handle, index) else { return false }
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count == expected.utf8CodeUnitCount else { return false }
        return memcmp(pointer, expected.utf8Start, count) == 0
    }

    /// Whether column `index` holds exactly these bytes (no String is made).
    func textEquals(_ index: Int32, _ expected: [UInt8]) -> Bool {
        guard let pointer = sqlite3_column_text(handle, index) else { return false }
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count == expected.count else { return false }
        return count == 0 || expected.withUnsafeBufferPointer { memcmp(pointer, $0.baseAddress!, count) == 0 }
    }

    /// Whether columns `index` and `other` hold the same bytes (no String is made); false when either is NULL.
    func textEquals(_ index: Int32, column other: Int32) -> Bool {
        guard let pointer = sqlite3_column_text(handle, index), let otherPointer = sqlite3_column_text(handle, other)
        else { return false }
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count == Int(sqlite3_column_bytes(handle, other)) else { return false }
        return memcmp(pointer, otherPointer, count) == 0
    }

    // SQLITE_TRANSIENT is a C macro: the destructor value -1, which tells SQLite to copy the bytes.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    // SQLITE_STATIC (0): the bytes stay valid and unchanged until the statement is reset.
    private static let `static`: sqlite3_destructor_type? = nil
}

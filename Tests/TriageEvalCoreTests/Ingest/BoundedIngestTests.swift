import Foundation
import GRDB
import Testing
import TriageEvalCore
import TriageEvalTestSupport

/// Ingest under hostile input: units far over the size limit, gzip streams cut short, names that are not UTF-8.
/// The inputs are generated here (by Python, which also works out the expected hashes and counts), never
/// committed.
@Suite struct BoundedIngestTests {
    struct QuarantineRow: Equatable {
        var source: String
        var byteCount: Int
        var storedBytes: Int
        var sha256: String
        var reason: String
    }

    static func quarantine(_ store: Store) throws -> [QuarantineRow] {
        try store.queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT source, byteCount, length(bytes) AS stored, sha256, reason FROM quarantine ORDER BY id"
            ).map {
                QuarantineRow(
                    source: $0["source"], byteCount: $0["byteCount"], storedBytes: $0["stored"], sha256: $0["sha256"],
                    reason: $0["reason"])
            }
        }
    }

    /// Writes `first`, a line of `count` bytes of `x`, then `second`, gzipped; prints the long line's SHA-256.
    static let writeLongLineGzip = """
        import gzip, hashlib, sys
        path, first, second, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        with gzip.open(path, "wb", compresslevel=1) as out:
            out.write(first.encode() + b"\\n")
            chunk = b"x" * (1 << 20)
            digest = hashlib.sha256()
            left = count
            while left:
                piece = chunk[: min(left, len(chunk))]
                out.write(piece)
                digest.update(piece)
                left -= len(piece)
            out.write(b"\\n" + second.encode() + b"\\n")
        print(digest.hexdigest())
        """

    /// Row 1 and 3 of the hostile-input table: a unit inflating far past the limit, beside good deliveries, is
    /// quarantined with its size, the hash of all of it and a 4 KiB prefix; the good deliveries are stored.
    @Test func aUnitOverTheLimitIsQuarantinedAsAPrefixAndTheOthersAreStored() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let path = temp.directory.file("big.jsonl.gz")
        let count = 48 << 20
        let sha = try Python.run(
            Self.writeLongLineGzip, path, IngestTests.body(), IngestTests.body(status: "resolved"), String(count))
        let summary = try Ingestor(store: temp.store, sizeLimit: 1 << 20).ingest(paths: [path])
        #expect(summary.read == 3 && summary.stored == 2 && summary.quarantined == 1 && summary.isBalanced)
        #expect(
            try Self.quarantine(temp.store) == [
                QuarantineRow(
                    source: "\(path):2", byteCount: count, storedBytes: 4096, sha256: sha,
                    reason: "too large: \(count) bytes, the limit is 1048576")
            ])
        #expect(
            summary.bytes == Int(try Python.run("import gzip,sys; print(len(gzip.open(sys.argv[1]).read()))", path)))
    }

    /// Row 2: the limit holds while reading, so a long line never grows the reader's buffer past the limit plus a
    /// chunk, however long the line.
    @Test func theReaderHoldsNoMoreThanTheLimitPlusAChunk() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let path = temp.directory.file("long.gz")
        _ = try Python.run(Self.writeLongLineGzip, path, "a", "b", String(40 << 20))
        let reader = LineReader(source: try ByteSource(path: path), limit: 1000)
        var units: [String] = []
        while let unit = try reader.nextUnit({ unit -> String in
            switch unit {
            case .line(let bytes): return String(decoding: bytes, as: UTF8.self)
            case .fragment(let fragment): return "fragment \(fragment.byteCount) \(fragment.prefix.count)"
            }
        }) {
            units.append(unit)
        }
        #expect(units == ["a", "fragment \(40 << 20) 4096", "b"])
        #expect(reader.bufferSize <= 1000 + 2 + (1 << 20))
        // Strict readers (replies, sidecars) get an error naming the file and line instead.
        let strict = LineReader(source: try ByteSource(path: path), limit: 1000)
        _ = try strict.nextLine { _ in () }
        #expect(throws: InputError.lineTooLong(path: path, line: 2, limit: 1000)) {
            _ = try strict.nextLine { _ in () }
        }
    }

    /// A whole-file `.json` unit over the limit is handled the same way.
    @Test func aWholeFileOverTheLimitIsQuarantinedAsAPrefix() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let body = IngestTests.body()
        let path = try temp.directory.write("one.json", body + String(repeating: " ", count: 10_000))
        let summary = try Ingestor(store: temp.store, sizeLimit: 5000).ingest(paths: [path])
        #expect(summary.quarantined == 1 && summary.isBalanced)
        let row = try #require(try Self.quarantine(temp.store).first)
        #expect(row.byteCount == body.utf8.count + 10_000 && row.storedBytes == 4096)
        #expect(
            row.sha256
                == (try Python.run(
                    "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", path)))
    }

    /// A truncated gzip stream keeps the units before the break, quarantines the broken tail with the reason, and
    /// the ingest goes on with the next file; no other unit is rolled back.
    @Test func aTruncatedGzipKeepsItsPrefixAndTheIngestGoesOn() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let cut = temp.directory.file("a-cut.jsonl.gz")
        let whole = try temp.directory.write("b-whole.jsonl", IngestTests.body(groupKey: "{}:{alertname=\"Y\"}") + "\n")
        // 400 distinct deliveries, gzipped, cut in the middle; Python counts the complete lines before the cut.
        let expected = try Python.run(
            """
            import gzip, json, sys, zlib
            lines = []
            for i in range(400):
                lines.append(sys.argv[2].replace('aaaa', 'f%06d' % i))
            data = gzip.compress(("\\n".join(lines) + "\\n").encode(), compresslevel=9)
            data = data[: len(data) // 2]
            open(sys.argv[1], "wb").write(data)
            inflated = zlib.decompressobj(16 + 15).decompress(data)
            complete = inflated.count(b"\\n")
            print(complete, len(inflated) - inflated.rfind(b"\\n") - 1)
            """, cut, IngestTests.body())
        let numbers = expected.split(separator: " ").compactMap { Int($0) }
        let (complete, tail) = (numbers[0], numbers[1])
        #expect(complete > 10 && complete < 390)
        let summary = try Ingestor(store: temp.store).ingest(paths: [temp.directory.path])
        #expect(summary.stored == complete + 1)
        #expect(summary.quarantined == 1 && summary.isBalanced)
        #expect(summary.brokenFiles == [.init(path: cut, reason: "not a valid gzip stream: truncated gzip stream")])
        let row = try #require(try Self.quarantine(temp.store).first)
        #expect(row.source == "\(cut):\(complete + 1)")
        #expect(row.byteCount == tail && row.storedBytes == min(tail, 4096))
        #expect(row.reason.contains("truncated gzip stream"))
        let sources = try temp.store.queue.read { db in try String.fetchAll(db, sql: "SELECT source FROM delivery") }
        #expect(sources.contains("\(whole):1"))
    }

    /// Row 13: a file whose name is not valid UTF-8 is read, named with `\xNN` escapes, and counted.
    @Test func namesThatAreNotUTF8AreReadAndCounted() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        try Python.run(
            "import os,sys; open(os.path.join(sys.argv[1].encode(), b'bad-\\xff\\\\.jsonl'), 'wb').write(sys.argv[2].encode() + b'\\n')",
            temp.directory.path, IngestTests.body())
        let summary = try Ingestor(store: temp.store).ingest(paths: [temp.directory.path])
        #expect(summary.files == 1 && summary.stored == 1 && summary.escapedNames == 1)
        let source = try temp.store.queue.read { db in try String.fetchOne(db, sql: "SELECT source FROM delivery") }
        #expect(source == temp.directory.path + "/bad-\\xff\\\\.jsonl:1")
    }

    @Test func escapedNamesKeepValidScalarsAndEscapeTheRest() {
        #expect(Ingestor.escapedName(Array("plain/é.jsonl".utf8)) == "plain/é.jsonl")
        #expect(Ingestor.escapedName([0x61, 0xC3, 0xA9, 0xFF, 0x5C, 0xC3]) == "aé\\xff\\\\\\xc3")
    }
}

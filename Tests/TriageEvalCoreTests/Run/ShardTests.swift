import Foundation
import Testing
import TriageEvalCore
import TriageEvalTestSupport

@Suite struct ShardTests {
    /// Buckets worked out with Python's hashlib, outside triage-eval:
    /// `int.from_bytes(hashlib.sha256(id.encode()).digest()[:8], "big") % n` for n = 3, 7 and 10,000.
    static let buckets: [(id: String, three: Int, seven: Int, tenThousand: Int)] = [
        ("inc-0001", 1, 0, 7312),
        ("inc-0002", 0, 0, 2963),
        ("inc-0003", 0, 3, 561),
        ("k8s-week-0001", 1, 1, 5392),
        ("", 1, 1, 1652),
        ("é-incident", 1, 6, 1696),
        ("a", 1, 4, 2250),
    ]

    @Test(arguments: buckets.indices) func anIncidentsBucketIsTheFirstEightBytesOfItsSHA256ModuloN(index: Int) {
        let row = Self.buckets[index]
        #expect(Shard.bucket(of: row.id, count: 3) == row.three)
        #expect(Shard.bucket(of: row.id, count: 7) == row.seven)
        #expect(Shard.bucket(of: row.id, count: 10_000) == row.tenThousand)
        #expect(Shard.bucket(of: row.id, count: 1) == 0)
        #expect(Shard(index: row.three + 1, count: 3)!.contains(row.id))
        #expect(!Shard(index: (row.three + 1) % 3 + 1, count: 3)!.contains(row.id))
    }

    @Test func theShardsOfARunPartitionItsIncidents() {
        let ids = (0..<3000).map { "incident-\($0)" }
        for count in [1, 2, 3, 8] {
            let shards = Shard.all(count: count)
            #expect(shards.map(\.description) == (1...count).map { "\($0)/\(count)" })
            for id in ids { #expect(shards.count { $0.contains(id) } == 1) }
            // Each shard gets about its share (a uniform hash: within 15% of 3000/N).
            for shard in shards {
                let share = ids.count { shard.contains($0) }
                #expect(abs(Double(share) - 3000 / Double(count)) < 0.15 * 3000 / Double(count))
            }
        }
    }

    @Test func onlyIOfNWithOneToNParses() {
        #expect(Shard("2/3") == Shard(index: 2, count: 3))
        #expect(Shard("1/1")?.description == "1/1")
        #expect(Shard("10000/10000") != nil)
        for bad in ["0/3", "4/3", "1/0", "-1/3", "a/b", "1/3/4", "/3", "1/", "", "1", " 1/3", "1/10001", "１/3"] {
            #expect(Shard(bad) == nil, "\(bad)")
        }
    }

    @Test func aShardKeepsToItsPartOfTheScenariosRateLimitsUnlessEachShardHasItsOwn() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        func scenario(_ rateLimit: String) throws -> Scenario {
            try Scenario.parse(
                text: """
                    name: limits
                    corpus: \(Repository.path("corpora/handwritten"))
                    catalog: \(Repository.path("corpora/handwritten/catalog.yaml"))
                    model: {provider: anthropic, name: m}
                    rate_limit: \(rateLimit)

                    """, path: temp.file("limits.yaml"))
        }
        let shared = try scenario("{requests_per_minute: 60, tokens_per_minute: 90000}")
        #expect(shared.effectiveRateLimit.requestsPerMinute == 60)
        let third = shared.with(shard: Shard("2/3")).effectiveRateLimit
        #expect(third.requestsPerMinute == 20 && third.tokensPerMinute == 30000)
        let own = try scenario("{requests_per_minute: 60, per_shard: true}").with(shard: Shard("2/3"))
        #expect(own.effectiveRateLimit.requestsPerMinute == 60 && own.effectiveRateLimit.tokensPerMinute == nil)
        #expect(shared.with(shard: Shard("1/1")).effectiveRateLimit.requestsPerMinute == 60)
        #expect(throws: ConfigError.self) { try scenario("{per_shard: maybe}") }
    }
}

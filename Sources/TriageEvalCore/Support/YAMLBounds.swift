// libyaml's event parser, the C library Yams embeds (its `CYaml` module, which every client of Yams already builds
// and sees): it parses without recursion, so it can measure a document that Yams' recursive composer could not
// survive. Yams has no limit of its own.
import CYaml
import Foundation

/// Bounds on the YAML triage-eval reads (scenarios, labels, catalogs), checked before Yams composes a document.
///
/// - **Depth**: at most ``maximumDepth`` nested collections. Yams composes recursively, and a 10 KB file nested
///   5,000 deep overflows the stack; real files nest a handful of levels.
/// - **Expansion**: at most ``maximumNodes`` nodes once every alias is expanded. Aliases cost nothing to parse
///   but are copied wherever their value is used, so a 609-byte "billion laughs" file expands to billions of
///   nodes (4 GB and more).
///
/// PyYAML, production's catalog loader, has neither limit; no real catalog comes near them (the shipped ones nest
/// 6 deep and hold under 2,000 nodes), so parity is unaffected for any catalog production could load in
/// reasonable time.
package enum YAMLBounds {
    /// The deepest nesting of collections accepted.
    package static let maximumDepth = 100
    /// The most nodes a document may hold with its aliases expanded.
    package static let maximumNodes = 1_000_000

    /// A bound a document breaks.
    package struct Violation: Error, Equatable, CustomStringConvertible {
        /// The 1-based line where the bound was crossed.
        package var line: Int
        /// What was crossed.
        package var message: String

        package var description: String { message }
    }

    /// Checks a document's depth and expanded size in one pass over libyaml's events, in time linear in the
    /// text (an alias adds its anchor's size, worked out once).
    /// - Returns: nil when within bounds, or when libyaml cannot parse it (the composer reports that).
    package static func violation(
        in text: String, maximumDepth: Int = maximumDepth, maximumNodes: Int = maximumNodes
    ) -> Violation? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Violation? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Each open collection counts its nodes (aliases expanded); an anchored node's count is kept by name.
            var open: [(anchor: String?, nodes: Int)] = []
            var anchors: [String: Int] = [:]
            var total = 0
            func add(_ count: Int) {
                if open.isEmpty { total += count } else { open[open.count - 1].nodes += count }
            }
            func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    add(1)
                    if let name = anchorName(event.data.scalar.anchor) { anchors[name] = 1 }
                case YAML_ALIAS_EVENT:
                    add(anchorName(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor =
                        event.type == YAML_SEQUENCE_START_EVENT
                        ? anchorName(event.data.sequence_start.anchor) : anchorName(event.data.mapping_start.anchor)
                    open.append((anchor, 1))
                    if open.count > maximumDepth {
                        return Violation(
                            line: line, message: "nested deeper than \(maximumDepth) levels (the limit for YAML here)")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let closed = open.popLast() else { return nil }
                    if let anchor = closed.anchor { anchors[anchor] = closed.nodes }
                    add(closed.nodes)
                default:
                    break
                }
                let pending = total + open.reduce(0) { $0 + $1.nodes }
                if pending > maximumNodes {
                    return Violation(
                        line: line,
                        message: "more than \(maximumNodes) nodes once its aliases are expanded (an alias bomb?)")
                }
            }
        }
    }
}

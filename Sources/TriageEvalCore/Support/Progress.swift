import Foundation
import Synchronization

/// Shows progress of long work on standard error: a bar on a terminal, a plain line every few seconds otherwise.
/// Advanced from any task or thread; its state is behind a `Mutex`.
package final class Progress: Sendable {
    /// How progress is shown.
    package enum Style: Sendable {
        /// A redrawn bar (standard error is a terminal).
        case bar
        /// A plain line at most every `interval` seconds (CI logs, pipes).
        case lines(interval: Double)
        /// Nothing.
        case silent
    }

    private let style: Style
    private let label: String
    private let total: Int?
    private let unit: String
    private let started: Date
    private let state: Mutex<State>

    /// What changes as work is done.
    private struct State {
        var done = 0
        var extra = ""
        var lastDraw: Date
    }

    /// The style for standard error: a bar when it is a terminal and `CI` is unset, else plain lines.
    package static var automaticStyle: Style {
        if ProcessInfo.processInfo.environment["CI"] != nil || isatty(2) == 0 { return .lines(interval: 5) }
        return .bar
    }

    /// Starts reporting.
    /// - Parameters:
    ///   - label: what is being done ("ingest", "run demo").
    ///   - total: how many units there are, when known.
    ///   - unit: the unit's name for the rate ("units", "samples", "bytes").
    ///   - style: how to show it.
    ///   - started: when the work began (now by default), for the rate and the elapsed time.
    package init(label: String, total: Int?, unit: String, style: Style, started: Date = Date()) {
        self.started = started
        self.label = label
        self.total = total
        self.unit = unit
        self.style = style
        // A bar draws at once; plain lines wait one interval, so short work prints only its final line.
        let lastDraw: Date = if case .bar = style { .distantPast } else { Date() }
        state = Mutex(State(lastDraw: lastDraw))
    }

    /// Records `count` more units done, with an optional note (cache hits, errors, ...) that is only built when
    /// a line is drawn.
    package func advance(by count: Int = 1, note: (() -> String)? = nil) {
        state.withLock { state in
            state.done += count
            if case .silent = style { return }
            let now = Date()
            switch style {
            case .silent: return
            case .bar:
                guard now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
            case .lines(let interval):
                guard now.timeIntervalSince(state.lastDraw) >= interval else { return }
            }
            state.lastDraw = now
            if let note { state.extra = note() }
            draw(state, final: false)
        }
    }

    /// Draws the final state and ends the line.
    package func finish(note: String? = nil) {
        state.withLock { state in
            if let note { state.extra = note }
            if case .silent = style { return }
            draw(state, final: true)
        }
    }

    private func draw(_ state: State, final: Bool) {
        let done = state.done
        let extra = state.extra
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        var text = "\(label): \(done)"
        if let total { text += "/\(total)" }
        text += " \(unit), \(Self.format(rate))/s"
        if let total, total > 0, !final, rate > 0 {
            let remaining = Double(total - done) / rate
            text += ", ETA \(Self.duration(remaining))"
        }
        if final { text += ", \(Self.duration(elapsed))" }
        if !extra.isEmpty { text += ", \(extra)" }
        switch style {
        case .bar:
            var bar = ""
            if let total, total > 0 {
                let width = 24
                let filled = min(width, Int(Double(width) * Double(done) / Double(total)))
                bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar + text + (final ? "\n" : "")).utf8))
        case .lines:
            FileHandle.standardError.write(Data((text + "\n").utf8))
        case .silent:
            break
        }
    }

    private static func format(_ rate: Double) -> String {
        rate >= 100 ? String(Int(rate.rounded())) : String(format: "%.1f", rate)
    }

    private static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds)
        return whole >= 3600 ? "\(whole / 3600)h\(whole % 3600 / 60)m" : "\(whole / 60)m\(whole % 60)s"
    }
}

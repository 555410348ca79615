// The libFuzzer entry point of scripts/fuzz, and the same checks on saved inputs without the fuzzer.
//
// Built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz, its own scratch path) this is a libFuzzer binary whose
// target is chosen by TRIAGE_EVAL_FUZZ_TARGET; a broken property aborts, so libFuzzer saves the input. Built
// normally it replays files: `triage-eval-fuzz TARGET FILE|FOLDER...` checks each input and exits 1 if any
// breaks a property — how a crash found in CI is reproduced with a debugger and no sanitizer.
import Foundation
import TriageEvalFuzzing

#if FUZZING
import CFuzzerDriver

nonisolated(unsafe) private var target = FuzzTarget.decision

/// libFuzzer's set-up hook: picks the target named by TRIAGE_EVAL_FUZZ_TARGET.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>
) -> CInt {
    let name = ProcessInfo.processInfo.environment["TRIAGE_EVAL_FUZZ_TARGET"] ?? ""
    guard let chosen = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("triage-eval-fuzz: set TRIAGE_EVAL_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    target = chosen
    return 0
}

/// libFuzzer's target: one input through the chosen target's checks; a broken property aborts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let problems = target.check(UnsafeBufferPointer(start: data, count: size))
    if !problems.isEmpty {
        FileHandle.standardError.write(Data(("triage-eval-fuzz: " + problems.joined(separator: "\n") + "\n").utf8))
        abort()
    }
    return 0
}

/// The process's entry point on Linux: SwiftPM links every executable with `main` bound to `<module>_main` (so
/// that tests can link it), which leaves libFuzzer's own `main` out; this starts libFuzzer's driver instead. (Where
/// SwiftPM does not rename, libFuzzer's `main` runs and calls the two functions above.)
@_cdecl("triage_eval_fuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) }
}
#else
@main
enum FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[0]) else {
            fail("usage: triage-eval-fuzz \(names) FILE|FOLDER...", status: 64)
        }
        var checked = 0
        var broken = 0
        for path in arguments.dropFirst() {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    fail("cannot read \(file)", status: 2)
                }
                checked += 1
                let problems = target.check(Array(data))
                if !problems.isEmpty {
                    broken += 1
                    print("\(file): \(problems.joined(separator: "; "))")
                }
            }
        }
        print("\(target.rawValue): \(checked) inputs, \(broken) breaking a property")
        exit(broken == 0 ? 0 : 1)
    }

    /// A file, or the regular files of a folder in name order.
    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            fail("no such file or folder: \(path)", status: 2)
        }
        guard isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { (path as NSString).appendingPathComponent($0) }.filter {
            var nested: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &nested) && !nested.boolValue
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("triage-eval-fuzz: \(message)\n".utf8))
        exit(status)
    }
}
#endif

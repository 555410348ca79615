import Testing
import TriageEvalCore

@Suite struct CalibrationTests {
    @Test func binEdgesAreExact() {
        // 0.7 belongs to [0.7, 0.8) even though 0.7 * 10 is not exactly 7; 1.0 to the closed last bin.
        let calibration = Calibration.compute(
            [(0.7, true), (0.3, false), (0.6, true), (1.0, true), (0.0, false), (0.29999999999999993, true)],
            excluded: [:], threshold: 0.7)
        let counts = calibration.bins.map(\.count)
        #expect(counts == [1, 0, 1, 1, 0, 0, 1, 1, 0, 1])
    }

    @Test func eceAndBrierMatchHandComputation() {
        // Bin [0.9, 1]: confidences 0.9, 0.9, 1.0 with 2 of 3 correct; bin [0.2, 0.3): 0.2 wrong.
        let calibration = Calibration.compute(
            [(0.9, true), (0.9, false), (1.0, true), (0.2, false)], excluded: [:], threshold: 0.7)
        // ECE = 3/4 · |2/3 − 2.8/3| + 1/4 · |0 − 0.2| = 0.25 (up to rounding).
        let expectedECE = 0.75 * abs(2.0 / 3.0 - 2.8 / 3.0) + 0.25 * 0.2
        #expect(abs(calibration.ece! - expectedECE) < 1e-12)
        let expectedBrier = (0.01 + 0.81 + 0.0 + 0.04) / 4
        #expect(abs(calibration.brier! - expectedBrier) < 1e-12)
        #expect(calibration.included == 4)
    }

    @Test func emptyInputHasNoScores() {
        let calibration = Calibration.compute([], excluded: ["not_ok": 3], threshold: 0.7)
        #expect(calibration.ece == nil)
        #expect(calibration.brier == nil)
        #expect(calibration.bins.allSatisfy { $0.count == 0 && $0.accuracy == nil })
    }
}

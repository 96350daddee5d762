/// Dice overlap `2|A∩B| / (|A|+|B|)` of two label maps on the same grid, per label.
///
/// Labels are those present (non-zero) in `truth`; a label missing from `prediction` scores 0.
/// Returns an empty dictionary when the grids differ in voxel count.
public func diceScores(prediction: LabelVolume, truth: LabelVolume) -> [Int32: Double] {
    guard prediction.labels.count == truth.labels.count else { return [:] }
    var inter: [Int32: Int] = [:], predCount: [Int32: Int] = [:], truthCount: [Int32: Int] = [:]
    prediction.labels.withUnsafeBufferPointer { p in
        truth.labels.withUnsafeBufferPointer { t in
            for n in 0..<p.count {
                let a = p[n], b = t[n]
                if a != 0 { predCount[a, default: 0] += 1 }
                if b != 0 { truthCount[b, default: 0] += 1 }
                if a == b && a != 0 { inter[a, default: 0] += 1 }
            }
        }
    }
    var out: [Int32: Double] = [:]
    for (l, tc) in truthCount {
        out[l] = 2 * Double(inter[l] ?? 0) / Double(tc + (predCount[l] ?? 0))
    }
    return out
}

/// Mean of the per-label Dice scores (NaN when there are none).
public func meanDice(_ scores: [Int32: Double]) -> Double {
    scores.isEmpty ? .nan : scores.values.reduce(0, +) / Double(scores.count)
}

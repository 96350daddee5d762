/// Anatomical direction of a voxel axis in RAS+ world space.
public enum AnatomicalDirection: Character, Sendable, CaseIterable {
    case right = "R", left = "L", anterior = "A", posterior = "P", superior = "S", inferior = "I"

    /// World axis (0 = x/R-L, 1 = y/A-P, 2 = z/S-I) this direction lies along.
    public var worldAxis: Int {
        switch self { case .right, .left: 0; case .anterior, .posterior: 1; case .superior, .inferior: 2 }
    }

    /// True for R, A, S (the positive world directions).
    public var isPositive: Bool { self == .right || self == .anterior || self == .superior }

    /// The direction pointing the other way.
    public var opposite: AnatomicalDirection {
        switch self {
        case .right: .left; case .left: .right; case .anterior: .posterior
        case .posterior: .anterior; case .superior: .inferior; case .inferior: .superior
        }
    }

    /// The direction of world axis `axis`, positive or negative.
    public init(worldAxis axis: Int, positive: Bool) {
        switch axis {
        case 0: self = positive ? .right : .left
        case 1: self = positive ? .anterior : .posterior
        default: self = positive ? .superior : .inferior
        }
    }
}

/// For each voxel axis, the nearest world direction that axis increases toward, e.g. "RAS" or "LPI".
///
/// Like nibabel's `aff2axcodes`: the largest absolute entry of each column of the linear part,
/// assigned greedily so that no world axis is used twice (oblique affines get the nearest
/// axis-aligned orientation).
public struct AxisOrientation: Equatable, Sendable, CustomStringConvertible {
    /// Direction of voxel axes i, j, k.
    public var directions: [AnatomicalDirection]

    public init(directions: [AnatomicalDirection]) { self.directions = directions }

    /// Derives the orientation of an affine's voxel axes.
    public init(affine: AffineTransform) {
        // Normalise columns, then pick the biggest |entry| over the whole matrix repeatedly.
        var m = [[Double]](repeating: [0, 0, 0], count: 3) // m[voxel axis][world axis]
        for c in 0..<3 {
            let col = affine.column(c)
            let n = (col * col).sum().squareRoot()
            for r in 0..<3 { m[c][r] = n > 0 ? col[r] / n : 0 }
        }
        var dirs = [AnatomicalDirection](repeating: .right, count: 3)
        var usedVoxel = Set<Int>(), usedWorld = Set<Int>()
        for _ in 0..<3 {
            var best = (-1.0, 0, 0)
            for c in 0..<3 where !usedVoxel.contains(c) {
                for r in 0..<3 where !usedWorld.contains(r) && abs(m[c][r]) > best.0 {
                    best = (abs(m[c][r]), c, r)
                }
            }
            let (_, c, r) = best
            usedVoxel.insert(c); usedWorld.insert(r)
            dirs[c] = AnatomicalDirection(worldAxis: r, positive: m[c][r] >= 0)
        }
        directions = dirs
    }

    /// The three letters, e.g. "LAS".
    public var description: String { String(directions.map(\.rawValue)) }

    /// True when the linear part is exactly axis-aligned (no obliquity).
    public static func isAxisAligned(_ affine: AffineTransform, tolerance: Double = 1e-6) -> Bool {
        for c in 0..<3 {
            let col = affine.column(c)
            let nonZero = (0..<3).filter { abs(col[$0]) > tolerance * max(1, (col * col).sum().squareRoot()) }
            if nonZero.count != 1 { return false }
        }
        return true
    }
}

/// A 3-D affine map `y = A x + t`, stored as three rows `[a0 a1 a2 t]`.
///
/// In voxterm a volume's affine maps voxel indices (i, j, k) to world millimetres in RAS+
/// (x grows to the subject's Right, y to Anterior, z to Superior), as NIfTI's sform/qform do.
public struct AffineTransform: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Row 0, 1, 2 of the 3x4 matrix `[A | t]`.
    public var rows: (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>)

    @inlinable
    public init(rows r0: SIMD4<Double>, _ r1: SIMD4<Double>, _ r2: SIMD4<Double>) {
        rows = (r0, r1, r2)
    }

    /// The identity map.
    public static let identity = AffineTransform(rows: [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0])

    /// A diagonal scaling by `spacing` followed by a translation by `origin`.
    public static func scaling(_ spacing: SIMD3<Double>, origin: SIMD3<Double> = .zero) -> AffineTransform {
        AffineTransform(rows: [spacing.x, 0, 0, origin.x], [0, spacing.y, 0, origin.y], [0, 0, spacing.z, origin.z])
    }

    /// Builds from a row-major 3x3 linear part and a translation.
    public init(linear m: [[Double]], translation t: SIMD3<Double>) {
        precondition(m.count == 3 && m.allSatisfy { $0.count == 3 })
        self.init(rows: [m[0][0], m[0][1], m[0][2], t.x], [m[1][0], m[1][1], m[1][2], t.y], [m[2][0], m[2][1], m[2][2], t.z])
    }

    /// Element (row r, column c) of the 3x4 matrix; column 3 is the translation.
    @inlinable
    public subscript(r: Int, c: Int) -> Double {
        get {
            switch r { case 0: return rows.0[c]; case 1: return rows.1[c]; default: return rows.2[c] }
        }
        set {
            switch r { case 0: rows.0[c] = newValue; case 1: rows.1[c] = newValue; default: rows.2[c] = newValue }
        }
    }

    /// The translation column `t`.
    @inlinable public var translation: SIMD3<Double> {
        get { SIMD3(rows.0.w, rows.1.w, rows.2.w) }
        set { rows.0.w = newValue.x; rows.1.w = newValue.y; rows.2.w = newValue.z }
    }

    /// Column `c` (0...2) of the linear part: the world step of one voxel along axis `c`.
    @inlinable public func column(_ c: Int) -> SIMD3<Double> { SIMD3(rows.0[c], rows.1[c], rows.2[c]) }

    /// Applies the map to a point.
    @inlinable
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> {
        let h = SIMD4(p.x, p.y, p.z, 1)
        return SIMD3((rows.0 * h).sum(), (rows.1 * h).sum(), (rows.2 * h).sum())
    }

    /// Applies only the linear part (for vectors, not points).
    @inlinable
    public func applyLinear(_ v: SIMD3<Double>) -> SIMD3<Double> {
        let h = SIMD4(v.x, v.y, v.z, 0)
        return SIMD3((rows.0 * h).sum(), (rows.1 * h).sum(), (rows.2 * h).sum())
    }

    /// Determinant of the linear part.
    public var determinant: Double {
        let a = self
        return a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
    }

    /// The inverse map, or nil when the linear part is singular.
    public var inverse: AffineTransform? {
        let d = determinant
        guard d.isFinite, abs(d) > 1e-300 else { return nil }
        let a = self
        var inv = AffineTransform.identity
        inv[0, 0] = (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) / d
        inv[0, 1] = (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) / d
        inv[0, 2] = (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) / d
        inv[1, 0] = (a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]) / d
        inv[1, 1] = (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) / d
        inv[1, 2] = (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) / d
        inv[2, 0] = (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]) / d
        inv[2, 1] = (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) / d
        inv[2, 2] = (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) / d
        let t = a.translation
        inv.translation = -inv.applyLinear(t)
        return inv
    }

    /// `self ∘ other`: first `other`, then `self`.
    public func composed(after other: AffineTransform) -> AffineTransform {
        var out = AffineTransform.identity
        for r in 0..<3 {
            for c in 0..<3 {
                out[r, c] = self[r, 0] * other[0, c] + self[r, 1] * other[1, c] + self[r, 2] * other[2, c]
            }
            out[r, 3] = self[r, 0] * other[0, 3] + self[r, 1] * other[1, 3] + self[r, 2] * other[2, 3] + self[r, 3]
        }
        return out
    }

    /// The 4x4 homogeneous matrix, row-major, last row `0 0 0 1`.
    public var matrix4x4: [[Double]] {
        (0..<3).map { r in (0..<4).map { self[r, $0] } } + [[0, 0, 0, 1]]
    }

    /// Largest absolute element-wise difference to `other`.
    public func maxDifference(to other: AffineTransform) -> Double {
        var m = 0.0
        for r in 0..<3 { for c in 0..<4 { m = max(m, abs(self[r, c] - other[r, c])) } }
        return m
    }

    public static func == (a: AffineTransform, b: AffineTransform) -> Bool {
        a.rows.0 == b.rows.0 && a.rows.1 == b.rows.1 && a.rows.2 == b.rows.2
    }

    public func hash(into h: inout Hasher) {
        for r in 0..<3 { for c in 0..<4 { h.combine(self[r, c]) } }
    }

    public var description: String {
        matrix4x4.map { row in row.map { formatNumber($0) }.joined(separator: " ") }.joined(separator: "\n")
    }
}

/// Formats a number with up to 6 significant decimals, without trailing zeros.
func formatNumber(_ v: Double) -> String {
    if v == 0 { return "0" }
    var s = String(format6: v)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s == "-0" ? "0" : s
}

extension String {
    /// Fixed 6-decimal formatting without Foundation.
    init(format6 v: Double) {
        let neg = v < 0
        let scaled = (abs(v) * 1_000_000).rounded()
        guard scaled < 9e15 else { self = "\(v)"; return }
        let n = UInt64(scaled)
        let intPart = n / 1_000_000
        var frac = String(n % 1_000_000)
        frac = String(repeating: "0", count: 6 - frac.count) + frac
        self = (neg ? "-" : "") + "\(intPart).\(frac)"
    }
}

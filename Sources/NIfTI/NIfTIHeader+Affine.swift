import VolumeCore

/// Where a file's voxel-to-world affine came from.
public enum AffineSource: String, Sendable {
    /// `srow_x/y/z`, used when `sform_code > 0`.
    case sform
    /// The quaternion, `qoffset` and `pixdim`, used when `qform_code > 0` and there is no sform.
    case qform
    /// Neither code set, or an Analyze 7.5 header: nibabel's fallback, voxel sizes from `pixdim`
    /// with x flipped, centred on the grid (or, for Analyze, on SPM's originator when valid).
    case pixdim
}

extension NIfTIHeader {
    /// The affine nibabel's `get_best_affine` returns: sform if `sform_code > 0`, else qform if
    /// `qform_code > 0`, else a pixdim-only affine (centred, x flipped, as nibabel's base affine).
    ///
    /// Analyze 7.5 headers (no NIfTI magic) have no qform/sform (those bytes hold other fields):
    /// they get nibabel's Spm2AnalyzeImage affine, `analyzeAffine`.
    public var bestAffine: (affine: AffineTransform, source: AffineSource) {
        if isAnalyze { return (analyzeAffine, .pixdim) }
        if sformCode > 0 { return (sformAffine, .sform) }
        if qformCode > 0 { return (qformAffine, .qform) }
        return (baseAffine, .pixdim)
    }

    /// The sform rows as an affine.
    public var sformAffine: AffineTransform {
        AffineTransform(rows: SIMD4(srow[0]), SIMD4(srow[1]), SIMD4(srow[2]))
    }

    /// `qfac` from pixdim[0]: -1 when negative, otherwise 1 (the standard treats 0 as 1).
    public var qfac: Double { pixdim[0] < 0 ? -1 : 1 }

    /// The qform affine: rotation from the quaternion (b, c, d; a ≥ 0 derived), voxel sizes from
    /// pixdim[1...3] with the third multiplied by qfac, translation from qoffset.
    ///
    /// As nifti1_io's `nifti_quatern_to_mat44` (which ITK and ANTs use): when 1 - (b² + c² + d²)
    /// is below 1e-7 the rotation is taken as 180° (a = 0) and (b, c, d) renormalised, so a
    /// float32-stored half turn gives the exact matrix. (Taking the square root of the double
    /// residue instead, as voxterm once did, tilted e.g. b, c, d = 0, ±0.70710677, 0.70710677 by
    /// 2e-4 rad, 7e-4 mm in the affine; nibabel's float32 residue is 0 there.)
    public var qformAffine: AffineTransform {
        var (b, c, d) = (quaternion.x, quaternion.y, quaternion.z)
        let w2 = 1 - (b * b + c * c + d * d)
        var a = 0.0
        if w2 < 1e-7 {
            let n = (b * b + c * c + d * d).squareRoot()
            if n > 0 { b /= n; c /= n; d /= n }
        } else {
            a = w2.squareRoot()
        }
        let rot = rotationMatrix(a: a, b: b, c: c, d: d)
        var vox = SIMD3(pixdim[1], pixdim[2], pixdim[3])
        for i in 0..<3 where vox[i] == 0 { vox[i] = 1 }
        vox.z *= qfac
        var m = AffineTransform.identity
        for r in 0..<3 { for k in 0..<3 { m[r, k] = rot[r][k] * vox[k] } }
        m.translation = qoffset
        return m
    }

    /// nibabel's base affine for headers without sform/qform: diagonal pixdim with x negated,
    /// centred so the middle voxel is at world 0.
    public var baseAffine: AffineTransform {
        let shape3 = (0..<3).map { $0 < rank ? Double(dim[$0 + 1]) : 1 }
        let zooms = (0..<3).map { $0 < rank ? pixdim[$0 + 1] : 1.0 }
        var m = AffineTransform.identity
        let z = SIMD3(-zooms[0], zooms[1], zooms[2])
        for i in 0..<3 { m[i, i] = z[i]; m[i, 3] = -(shape3[i] - 1) / 2 * z[i] }
        return m
    }

    /// nibabel's SPM Analyze affine: diagonal pixdim with x negated, translated so SPM's 1-based
    /// originator is world 0 when it lies within (-dim, 2 dim) on every axis and is not all
    /// zero, else centred like `baseAffine`. (An SPM `.mat` sidecar is not read.)
    public var analyzeAffine: AffineTransform {
        let dims = (0..<3).map { $0 < rank ? dim[$0 + 1] : 1 }
        let origin = [analyzeOrigin.x, analyzeOrigin.y, analyzeOrigin.z]
        let valid = origin.contains { $0 != 0 } && (0..<3).allSatisfy { origin[$0] > -dims[$0] && origin[$0] < 2 * dims[$0] }
        guard valid else { return baseAffine }
        var m = AffineTransform.identity
        for i in 0..<3 {
            let zoom = (i < rank ? pixdim[i + 1] : 1) * (i == 0 ? -1 : 1)
            m[i, i] = zoom
            m[i, 3] = -Double(origin[i] - 1) * zoom
        }
        return m
    }

    /// Sets the quaternion fields and pixdim[0...3] to represent `affine` (nearest rotation when
    /// the linear part is not orthogonal), as `nifti_mat44_to_quatern` does.
    public mutating func setQform(_ affine: AffineTransform, code: Int) {
        var cols = (0..<3).map { affine.column($0) }
        var vox = cols.map { ($0 * $0).sum().squareRoot() }
        for i in 0..<3 where vox[i] == 0 { vox[i] = 1; cols[i] = SIMD3((0..<3).map { $0 == i ? 1 : 0 }) }
        var r = (0..<3).map { i in cols[i] / vox[i] } // columns of the rotation
        // Orthogonalise by polar decomposition (a few Newton steps R <- (R + R^-T) / 2).
        for _ in 0..<20 {
            let m = AffineTransform(linear: (0..<3).map { row in (0..<3).map { r[$0][row] } }, translation: .zero)
            guard let inv = m.inverse else { break }
            r = (0..<3).map { c in (r[c] + SIMD3(inv[c, 0], inv[c, 1], inv[c, 2])) / 2 }
        }
        var m = AffineTransform(linear: (0..<3).map { row in (0..<3).map { r[$0][row] } }, translation: .zero)
        var qf = 1.0
        if m.determinant < 0 { qf = -1; for row in 0..<3 { m[row, 2] = -m[row, 2] } }
        let q = unitQuaternion(of: m)
        quaternion = SIMD3(q.1, q.2, q.3)
        qoffset = affine.translation
        pixdim[0] = qf
        pixdim[1] = vox[0]; pixdim[2] = vox[1]; pixdim[3] = vox[2]
        qformCode = code
    }

    /// Sets the sform rows from `affine`.
    public mutating func setSform(_ affine: AffineTransform, code: Int) {
        srow = (0..<3).map { r in (0..<4).map { affine[r, $0] } }
        sformCode = code
    }
}

/// Rotation matrix of a unit quaternion (a, b, c, d), row-major.
func rotationMatrix(a: Double, b: Double, c: Double, d: Double) -> [[Double]] {
    let n = a * a + b * b + c * c + d * d
    if n < 1e-12 { return [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    let s = 2 / n
    return [
        [1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)],
        [s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b)],
        [s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c)],
    ]
}

/// Unit quaternion (a ≥ 0, b, c, d) of a proper rotation matrix.
func unitQuaternion(of m: AffineTransform) -> (Double, Double, Double, Double) {
    let trace = m[0, 0] + m[1, 1] + m[2, 2]
    var a, b, c, d: Double
    if trace > 0 {
        let s = (trace + 1).squareRoot() * 2
        a = s / 4; b = (m[2, 1] - m[1, 2]) / s; c = (m[0, 2] - m[2, 0]) / s; d = (m[1, 0] - m[0, 1]) / s
    } else if m[0, 0] > m[1, 1] && m[0, 0] > m[2, 2] {
        let s = (1 + m[0, 0] - m[1, 1] - m[2, 2]).squareRoot() * 2
        a = (m[2, 1] - m[1, 2]) / s; b = s / 4; c = (m[0, 1] + m[1, 0]) / s; d = (m[0, 2] + m[2, 0]) / s
    } else if m[1, 1] > m[2, 2] {
        let s = (1 + m[1, 1] - m[0, 0] - m[2, 2]).squareRoot() * 2
        a = (m[0, 2] - m[2, 0]) / s; b = (m[0, 1] + m[1, 0]) / s; c = s / 4; d = (m[1, 2] + m[2, 1]) / s
    } else {
        let s = (1 + m[2, 2] - m[0, 0] - m[1, 1]).squareRoot() * 2
        a = (m[1, 0] - m[0, 1]) / s; b = (m[0, 2] + m[2, 0]) / s; c = (m[1, 2] + m[2, 1]) / s; d = s / 4
    }
    if a < 0 { a = -a; b = -b; c = -c; d = -d }
    return (a, b, c, d)
}

import VolumeCore

/// A displacement field kept on a coarser grid than the image grid it warps (both from the same
/// full-resolution grid, axis-aligned): the field at a fine voxel is the trilinear interpolant of
/// the coarse field (border values extended). Used at full resolution on large images, so the
/// metric sees every voxel while the fields stay small (a 1 mm brain with its field at 2 mm).
/// Warping, the chain rule and the adjoint of the interpolation (fine gradient → coarse nodes)
/// are fused, so no fine vector field is ever stored.
public struct CoarseFieldWarp {
    /// The image grid (where the metric is evaluated).
    public let grid: VolumeGeometry
    /// The field grid.
    public let fieldGrid: VolumeGeometry
    /// Fixed world → moving world applied after the displacement.
    public let affine: AffineTransform
    /// Per axis: base coarse index and weight of the next node for every fine index.
    let base: [[Int]], weight: [[Float]]
    /// The image grid's rows (y + z·ny) by slab of the field grid's outermost axis (z, or y for
    /// a single-plane field), for `gradient`: slab `s` holds `slabRows[slabStart[s]..<slabStart[s + 1]]`,
    /// in increasing order. Made once here, not on every gradient.
    let slabRows: [Int], slabStart: [Int]

    /// Nil when `fieldGrid` is not axis-aligned with `grid` (then use `DisplacementWarp`).
    public init?(grid: VolumeGeometry, fieldGrid: VolumeGeometry, affine: AffineTransform) {
        guard let inv = fieldGrid.affine.inverse else { return nil }
        let m = inv.composed(after: grid.affine)   // fine voxel → coarse voxel
        for r in 0..<3 { for c in 0..<3 where r != c { if abs(m[r, c]) > 1e-9 { return nil } } }
        self.grid = grid; self.fieldGrid = fieldGrid; self.affine = affine
        var b: [[Int]] = [], w: [[Float]] = []
        for a in 0..<3 {
            let nc = fieldGrid.size[a]
            var ba: [Int] = [], wa: [Float] = []
            for i in 0..<grid.size[a] {
                let x = min(max(m[a, a] * Double(i) + m[a, 3], 0), Double(nc - 1))
                let x0 = min(Int(x), max(nc - 2, 0))
                ba.append(x0); wa.append(nc > 1 ? Float(x - Double(x0)) : 0)
            }
            b.append(ba); w.append(wa)
        }
        base = b; weight = w
        // Slabs along z when the field has more than one plane, else along y.
        let cs = fieldGrid.size, gs = grid.size
        let slabAxis = cs.z > 1 ? 2 : 1
        let slabs = cs[slabAxis] > 1 ? cs[slabAxis] - 1 : 1
        let slabOfRow = (0..<(gs.y * gs.z)).map { row in
            min(slabAxis == 2 ? b[2][row / gs.y] : b[1][row % gs.y], slabs - 1)
        }
        var start = [Int](repeating: 0, count: slabs + 1)
        for s in slabOfRow { start[s + 1] += 1 }
        for s in 0..<slabs { start[s + 1] += start[s] }
        var rows = [Int](repeating: 0, count: slabOfRow.count), next = start
        for (row, s) in slabOfRow.enumerated() { rows[next[s]] = row; next[s] += 1 }
        slabRows = rows; slabStart = start
    }

    /// The smallest field grid for `grid` (a level of `full` at `shrink`) holding at most
    /// `maxVoxels` voxels: the level grid itself when it fits, else the level grid of
    /// `shrink · f` for the smallest integer `f` that fits.
    public static func fieldGrid(full: VolumeGeometry, shrink: Int, maxVoxels: Int) -> VolumeGeometry {
        var f = 1
        while true {
            let g = Pyramid.levelGeometry(full, shrink: shrink * f)
            if g.voxelCount <= maxVoxels || f >= 64 || g.size == Pyramid.levelGeometry(full, shrink: shrink * (f + 1)).size { return g }
            f += 1
        }
    }

    /// Calls `body(i, u)` with the interpolated field for every fine voxel of row `row` (y + z·ny).
    @inline(__always)
    func forEachInRow(_ u: UnsafePointer<Float>, row: Int, line: UnsafeMutablePointer<Float>,
                      _ body: (Int, SIMD3<Float>) -> Void) {
        let s = grid.size, cs = fieldGrid.size, nc = fieldGrid.voxelCount
        let j = row % s.y, k = row / s.y
        let y0 = base[1][j], z0 = base[2][k], fy = weight[1][j], fz = weight[2][k]
        let dy = cs.y > 1 ? cs.x : 0, dz = cs.z > 1 ? cs.x * cs.y : 0
        let w00 = (1 - fy) * (1 - fz), w10 = fy * (1 - fz), w01 = (1 - fy) * fz, w11 = fy * fz
        // The coarse field along this row's line (bilinear in y and z), then linear in x.
        for c in 0..<3 {
            let src = u + c * nc + cs.x * (y0 + cs.y * z0)
            let dst = line + c * cs.x
            for x in 0..<cs.x {
                dst[x] = w00 * src[x] + w10 * src[x + dy] + w01 * src[x + dz] + w11 * src[x + dy + dz]
            }
        }
        let dx = cs.x > 1 ? 1 : 0
        base[0].withUnsafeBufferPointer { bx in weight[0].withUnsafeBufferPointer { wx in
            for i in 0..<s.x {
                let x0 = bx[i], fx = wx[i]
                let l0 = line + x0, l1 = line + cs.x + x0, l2 = line + 2 * cs.x + x0
                let d = SIMD3(l0[0] + (l0[dx] - l0[0]) * fx, l1[0] + (l1[dx] - l1[0]) * fx, l2[0] + (l2[dx] - l2[0]) * fx)
                body(row * s.x + i, d)
            }
        } }
    }

    /// Samples `moving` at `A(x + u(x))` for every fine voxel into `warped` (`u` on the field grid).
    public func warp(_ moving: MovingImage, field u: UnsafePointer<Float>, into warped: UnsafeMutablePointer<Float>) {
        let toVoxel = moving.worldToVoxel.composed(after: affine)
        let m = moving.voxels.pointer, ms = moving.size
        let g = grid, cx = fieldGrid.size.x
        let step = g.affine.column(0)
        let r0 = toVoxel.rows.0, r1 = toVoxel.rows.1, r2 = toVoxel.rows.2
        parallelFor(g.size.y * g.size.z) { row in
            let j = row % g.size.y, k = row / g.size.y
            let p0 = g.affine.apply(SIMD3(0, Double(j), Double(k)))
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * cx) { line in
                forEachInRow(u, row: row, line: line.baseAddress!) { idx, d in
                    let x = p0 + Double(idx - row * g.size.x) * step + d.double
                    // `toVoxel.apply(x)` written out (the same operations), so it is inlined.
                    let h = SIMD4(x.x, x.y, x.z, 1)
                    let q = SIMD3((r0 * h).sum(), (r1 * h).sum(), (r2 * h).sum())
                    warped[idx] = Trilinear.sampleWithGradient(m, ms, q).value
                }
            }
        }
    }

    /// `∂value/∂u` on the field grid: the chain rule `∂value/∂W · Aᵀ∇M` at every fine voxel,
    /// carried to the coarse nodes by the adjoint of the interpolation (the same trilinear
    /// weights), into `out` (3 × field voxels). Deterministic: fine voxels are added slab by slab
    /// of the field grid's outermost axis, even slabs then odd ones (disjoint writes in parallel).
    public func gradient(_ moving: MovingImage, field u: UnsafePointer<Float>, dValue: UnsafePointer<Float>,
                         into out: UnsafeMutablePointer<Float>) {
        let toVoxel = moving.worldToVoxel.composed(after: affine)
        let m = moving.voxels.pointer, ms = moving.size
        let g = grid, cs = fieldGrid.size, nc = fieldGrid.voxelCount
        out.update(repeating: 0, count: 3 * nc)
        let step = g.affine.column(0)
        let slabs = slabStart.count - 1
        let dx = cs.x > 1 ? 1 : 0, dy = cs.y > 1 ? cs.x : 0, dz = cs.z > 1 ? cs.x * cs.y : 0
        let r0 = toVoxel.rows.0, r1 = toVoxel.rows.1, r2 = toVoxel.rows.2
        let t0 = SIMD3<Float>(Float(r0.x), Float(r0.y), Float(r0.z))
        let t1 = SIMD3<Float>(Float(r1.x), Float(r1.y), Float(r1.z))
        let t2 = SIMD3<Float>(Float(r2.x), Float(r2.y), Float(r2.z))
        let by = base[1], bz = base[2], wy = weight[1], wz = weight[2]
        slabRows.withUnsafeBufferPointer { rows in slabStart.withUnsafeBufferPointer { start in
            base[0].withUnsafeBufferPointer { bx in weight[0].withUnsafeBufferPointer { wx in
                // Even slabs, then odd ones: the slabs of one phase write disjoint field nodes.
                for phase in 0..<2 {
                    let count = (slabs - phase + 1) / 2
                    if count <= 0 { continue }
                    parallelFor(count) { t in
                        let slab = phase + 2 * t
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * cs.x) { line in
                            for row in rows[start[slab]..<start[slab + 1]] {
                                let j = row % g.size.y, k = row / g.size.y
                                let y0 = by[j], z0 = bz[k], fy = wy[j], fz = wz[k]
                                let w00 = (1 - fy) * (1 - fz), w10 = fy * (1 - fz), w01 = (1 - fy) * fz, w11 = fy * fz
                                let rowBase = cs.x * (y0 + cs.y * z0)
                                let p0 = g.affine.apply(SIMD3(0, Double(j), Double(k)))
                                forEachInRow(u, row: row, line: line.baseAddress!) { idx, d in
                                    let i = idx - row * g.size.x
                                    let dv = dValue[idx]
                                    if dv == 0 { return }
                                    let x = p0 + Double(i) * step + d.double
                                    // `toVoxel.apply(x)` and `applyLinearTransposed` written out (the same operations).
                                    let h = SIMD4(x.x, x.y, x.z, 1)
                                    let q = SIMD3((r0 * h).sum(), (r1 * h).sum(), (r2 * h).sum())
                                    let gm = Trilinear.sampleWithGradient(m, ms, q).gradient
                                    if gm == .zero { return }
                                    let gw = SIMD3(t0.x * gm.x + t1.x * gm.y + t2.x * gm.z, t0.y * gm.x + t1.y * gm.y + t2.y * gm.z,
                                                   t0.z * gm.x + t1.z * gm.y + t2.z * gm.z) * dv
                                    let x0 = bx[i], fx = wx[i]
                                    let o = rowBase + x0
                                    for c in 0..<3 {
                                        let v = gw[c]
                                        let b = out + c * nc + o
                                        let a = v * (1 - fx), e = v * fx
                                        b[0] += a * w00; b[dy] += a * w10; b[dz] += a * w01; b[dy + dz] += a * w11
                                        b[dx] += e * w00; b[dx + dy] += e * w10; b[dx + dz] += e * w01; b[dx + dy + dz] += e * w11
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        } }
    }

    /// The fine field: `u` (field grid) interpolated at every fine voxel into `out` (3 × fine voxels).
    public func upsample(_ u: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let n = grid.voxelCount, cx = fieldGrid.size.x
        parallelFor(grid.size.y * grid.size.z) { row in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * cx) { line in
                forEachInRow(u, row: row, line: line.baseAddress!) { idx, d in
                    out[idx] = d.x; out[n + idx] = d.y; out[2 * n + idx] = d.z
                }
            }
        }
    }
}

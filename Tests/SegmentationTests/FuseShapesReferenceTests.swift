import Foundation
import Testing
import VolumeCore
@testable import Segmentation

/// `fuseShapes` keeps a running best / runner-up per pixel over chunks of candidates (memory
/// proportional to the pixels); it must give what the plain rule gives: every candidate's blended
/// distance map held at once (labels x pixels), each averaged, then the smallest per pixel.
@Suite struct FuseShapesReferenceTests {
    /// The plain rule, as `fuseShapes` computed it before (all candidates' maps at once).
    func reference(sources: [(SliceShape, Float)], maps: [[SIMD2<Float>]?], agreement: [[Float]]?, alpha: Float,
                   width: Int, height: Int, pixelSize: Float, backgroundBias: Float, smoothingRadius: Int) -> ([Int32], [Float]) {
        let n = sources.count, count = width * height
        let candidates = Set(sources.flatMap { $0.0.maps.keys }).sorted()
        let c = candidates.count
        // Per candidate and source: the map, the source whose position samples it, the offset.
        var table: [(LabelDistanceMap, Int, Float)] = []
        for l in candidates {
            for s in 0..<n {
                if let m = sources[s].0.maps[l] { table.append((m, s, 0)) } else {
                    let m = sources[1 - s].0.maps[l]!
                    table.append((m, 1 - s, 1.5 * m.depth + 1 * pixelSize))
                }
            }
        }
        let w = sources.map { $0.1 }
        let r2 = w.map { $0 * $0 }, t2 = r2.reduce(0, +)
        let wp = t2 > 0 ? r2.map { $0 / t2 } : w
        var blended = [[Float]](repeating: [Float](repeating: 0, count: count), count: c)
        var shapeWinner = [Int](repeating: 0, count: count)
        var positions = [[SIMD2<Float>]](repeating: [], count: count), weights = [[Float]](repeating: [], count: count)
        for y in 0..<height {
            for x in 0..<width {
                let p = x + width * y
                var q = [SIMD2<Float>](), wr = [Float]()
                var total: Float = 0
                for s in 0..<n {
                    q.append(SIMD2(Float(x), Float(y)) + (maps[s]?[p] ?? .zero))
                    wr.append(wp[s] * (agreement?[s][p] ?? 1)); total += wr[s]
                }
                if total > 0 { for s in 0..<n { wr[s] /= total } } else { wr = wp }
                var bestShape = Float.infinity
                for ci in 0..<c {
                    var reg: Float = 0, sh: Float = 0
                    for s in 0..<n {
                        let (m, f, o) = table[ci * n + s]
                        if alpha > 0 { reg += wr[s] * (m.sample(q[f].x, q[f].y) + o) }
                        sh += w[s] * (m.value(x, y) + o)
                    }
                    var d = alpha * reg + (1 - alpha) * sh
                    if candidates[ci] == 0 { d += backgroundBias }
                    blended[ci][p] = d
                    if sh < bestShape { bestShape = sh; shapeWinner[p] = ci }
                }
                positions[p] = q; weights[p] = wr
            }
        }
        if smoothingRadius > 0 {
            for ci in 0..<c { blended[ci].withUnsafeMutableBufferPointer { boxMean2D($0, width: width, height: height, radius: smoothingRadius) } }
        }
        var labels = [Int32](repeating: 0, count: count), confidence = [Float](repeating: 0, count: count)
        for p in 0..<count {
            var best = Float.infinity, second = Float.infinity, bestIndex = 0
            for ci in 0..<c {
                let d = blended[ci][p]
                if d < best { second = best; best = d; bestIndex = ci } else if d < second { second = d }
            }
            let label = candidates[bestIndex]
            var agree: Float = (1 - alpha) * (shapeWinner[p] == bestIndex ? 1 : 0)
            if alpha > 0 {
                for s in 0..<n {
                    let q = positions[p][s]
                    let sx = min(max(Int(q.x.rounded()), 0), width - 1), sy = min(max(Int(q.y.rounded()), 0), height - 1)
                    if sources[s].0.labels[sx + width * sy] == label { agree += alpha * weights[p][s] }
                }
            }
            let margin = second.isFinite ? min(1, (second - best) / pixelSize) : 1
            labels[p] = label; confidence[p] = 0.5 * agree + 0.5 * margin
        }
        return (labels, confidence)
    }

    /// Two 60 x 50 slices with 41 labels (a grid of blobs that move and change between them, some on one
    /// slice only), a smooth displacement field and a varying agreement: more candidates than one chunk.
    @Test func sameAsHoldingEveryCandidateAtOnce() {
        let w = 60, h = 50
        var a = [Int32](repeating: 0, count: w * h), b = a
        for y in 0..<h {
            for x in 0..<w {
                let cell = Int32(1 + (x / 10) + 6 * (y / 10))      // 30 cells
                let dx = x % 10 - 5, dy = y % 10 - 5
                if dx * dx + dy * dy <= 12 { a[x + w * y] = cell }
                if (dx - 1) * (dx - 1) + dy * dy <= 16 { b[x + w * y] = cell % 7 == 0 ? cell + 100 : cell }  // some renamed: vanish
                if x > 45 && y < 8 { b[x + w * y] = 200 }               // on one slice only
            }
        }
        let sa = SliceShape(labels: a, width: w, height: h, spacing: [1.5, 1.5])
        let sb = SliceShape(labels: b, width: w, height: h, spacing: [1.5, 1.5])
        let candidates = Set(sa.maps.keys).union(sb.maps.keys).count
        #expect(candidates > fuseShapesChunk, "\(candidates) candidates: one chunk only")
        let field: [SIMD2<Float>] = (0..<(w * h)).map { p -> SIMD2<Float> in
            let x = Float(p % w), y = Float(p / w)
            let u: Float = 0.8 * sin(y / 7), v: Float = -0.6 * cos(x / 9)
            return SIMD2(u, v)
        }
        let agreeA: [Float] = (0..<(w * h)).map { Float(($0 * 13) % 10) / 10 }
        let agreeB: [Float] = (0..<(w * h)).map { Float(($0 * 7) % 10) / 10 }
        let agreement: [[Float]] = [agreeA, agreeB]
        let cases: [(Float, Int, Bool)] = [(0.6, 1, true), (0, 1, false), (0.8, 0, true), (0.6, 2, false)]
        for (alpha, radius, withAgreement) in cases {
            let sources = [(sa, Float(0.3)), (sb, Float(0.7))]
            let maps: [[SIMD2<Float>]?] = [field, field.map { -$0 }]
            let got = fuseShapes(sources: sources, maps: maps, agreement: withAgreement ? agreement : nil, registrationWeight: alpha,
                                 width: w, height: h, pixelSize: 1.5, backgroundBias: 0.4, smoothingRadius: radius)
            let want = reference(sources: sources, maps: maps, agreement: withAgreement ? agreement : nil, alpha: alpha,
                                 width: w, height: h, pixelSize: 1.5, backgroundBias: 0.4, smoothingRadius: radius)
            #expect(got.labels == want.0, "alpha \(alpha) radius \(radius)")
            #expect(got.confidence == want.1, "alpha \(alpha) radius \(radius)")
            #expect(Set(got.labels).count > 20)
        }
        // One labelled slice (extrapolation) and a single candidate.
        let one = fuseShapes(sources: [(sa, 1)], maps: [field], agreement: nil, registrationWeight: 0.6,
                             width: w, height: h, pixelSize: 1.5, backgroundBias: 0, smoothingRadius: 1)
        let oneRef = reference(sources: [(sa, 1)], maps: [field], agreement: nil, alpha: 0.6,
                               width: w, height: h, pixelSize: 1.5, backgroundBias: 0, smoothingRadius: 1)
        #expect(one.labels == oneRef.0 && one.confidence == oneRef.1)
        let empty = SliceShape(labels: [Int32](repeating: 0, count: w * h), width: w, height: h, spacing: [1.5, 1.5])
        let bg = fuseShapes(sources: [(empty, 0.5), (empty, 0.5)], maps: [nil, nil], agreement: nil, registrationWeight: 0.5,
                            width: w, height: h, pixelSize: 1.5)
        #expect(bg.labels.allSatisfy { $0 == 0 } && bg.confidence.allSatisfy { $0 == 1 })
    }

    /// A Float prefix sum along a 4000-pixel row of values near 1000 reaches 4e6, where Float steps
    /// are 0.25-0.5: the window means drifted by up to ~0.1. Accumulated in Double they match a
    /// Double brute-force mean to Float rounding, along rows and columns.
    @Test func boxMeanDoesNotDriftOnLongRowsOfLargeValues() {
        for (w, h) in [(4000, 3), (3, 4000)] {
            var state: UInt64 = 12345
            let values = (0..<(w * h)).map { _ -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return 1000 + Float(Double(state >> 11) / Double(1 << 53)) - 0.5
            }
            for radius in [1, 3] {
                var a = values
                a.withUnsafeMutableBufferPointer { boxMean2D($0, width: w, height: h, radius: radius) }
                var worst = 0.0
                for y in 0..<h {
                    for x in 0..<w {
                        var sum = 0.0, n = 0.0
                        for yy in max(0, y - radius)...min(h - 1, y + radius) {
                            for xx in max(0, x - radius)...min(w - 1, x + radius) { sum += Double(values[xx + w * yy]); n += 1 }
                        }
                        worst = max(worst, abs(Double(a[x + w * y]) - sum / n))
                    }
                }
                // Float rounding of a value near 1000 is 6e-5 (two passes: twice that).
                #expect(worst < 2e-4, "\(w) x \(h), radius \(radius): drift \(worst)")
            }
        }
    }
}

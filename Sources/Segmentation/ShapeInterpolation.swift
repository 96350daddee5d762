import VolumeCore

/// Exact Euclidean distance transforms and per-label signed distance maps of 2-D label slices:
/// the shape evidence of slice filling (shape-based interpolation, Raya & Udupa 1990; Herman et al. 1992).

/// Squared Euclidean distance (in mm²) from every pixel of a `width` x `height` grid to the nearest
/// pixel where `isSite` is true (`Float.infinity` when there is none); pixel spacing `spacing` (mm).
/// Felzenszwalb & Huttenlocher's lower-envelope algorithm, one pass per axis: O(pixels).
func squaredDistanceTransform(width: Int, height: Int, spacing: SIMD2<Float>, isSite: (Int) -> Bool) -> [Float] {
    let inf = Float.infinity
    var g = [Float](repeating: inf, count: width * height)
    // Columns along x first: 1-D transform of the site indicator.
    var f = [Float](repeating: 0, count: max(width, height))
    var out = [Float](repeating: 0, count: max(width, height))
    var v = [Int](repeating: 0, count: max(width, height))
    var z = [Float](repeating: 0, count: max(width, height) + 1)
    func transform1D(_ n: Int, _ s: Float) {
        // Lower envelope of parabolas s²(q - v)² + f(v); sites with f = inf are skipped.
        var k = -1
        let s2 = s * s
        for q in 0..<n where f[q] < inf {
            if k < 0 { k = 0; v[0] = q; z[0] = -inf; z[1] = inf; continue }
            var x: Float
            repeat {
                let p = v[k]
                x = ((f[q] + s2 * Float(q * q)) - (f[p] + s2 * Float(p * p))) / (2 * s2 * Float(q - p))
                if x <= z[k] { k -= 1 } else { break }
            } while k >= 0
            k += 1; v[k] = q; z[k] = k == 0 ? -inf : x; z[k + 1] = inf
        }
        if k < 0 { for q in 0..<n { out[q] = inf }; return }
        var j = 0
        for q in 0..<n {
            while z[j + 1] < Float(q) { j += 1 }
            let d = Float(q - v[j])
            out[q] = s2 * d * d + f[v[j]]
        }
    }
    for y in 0..<height {
        for x in 0..<width { f[x] = isSite(x + width * y) ? 0 : inf }
        transform1D(width, spacing.x)
        for x in 0..<width { g[x + width * y] = out[x] }
    }
    for x in 0..<width {
        for y in 0..<height { f[y] = g[x + width * y] }
        transform1D(height, spacing.y)
        for y in 0..<height { g[x + width * y] = out[y] }
    }
    return g
}

/// The signed distance map of one label on one slice, kept on a window around the label
/// (its bounding box grown by a margin); outside the window the distance is at least `far`.
///
/// Convention: mm, negative inside, positive outside, the boundary half-way between an inside and
/// an outside pixel (each pixel's distance to the nearest pixel of the other kind, minus half a pixel).
struct LabelDistanceMap: Sendable {
    /// Window on the slice: x0..<x1, y0..<y1 (pixels).
    var x0: Int, y0: Int, x1: Int, y1: Int
    /// Values on the window, row-major.
    var values: [Float]
    /// Value used outside the window (the margin in mm: a lower bound of the true distance there).
    var far: Float
    /// Deepest inside distance (mm, positive): how far the label is from vanishing.
    var depth: Float
    /// Number of pixels of the label.
    var area: Int

    /// Value at integer pixel (x, y) of the slice.
    @inline(__always) func value(_ x: Int, _ y: Int) -> Float {
        guard x >= x0, x < x1, y >= y0, y < y1 else { return far }
        return values[(x - x0) + (x1 - x0) * (y - y0)]
    }

    /// Bilinear value at continuous pixel position (x, y) of the slice.
    @inline(__always) func sample(_ x: Float, _ y: Float) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        // Whole 2x2 neighbourhood outside the window: far.
        if ix + 1 < x0 || ix >= x1 || iy + 1 < y0 || iy >= y1 { return far }
        let tx = x - fx, ty = y - fy
        let a = value(ix, iy) * (1 - tx) + value(ix + 1, iy) * tx
        let b = value(ix, iy + 1) * (1 - tx) + value(ix + 1, iy + 1) * tx
        return a * (1 - ty) + b * ty
    }
}

/// The signed distance maps of every label (0 included) of one labelled slice.
struct SliceShape: Sendable {
    let width: Int, height: Int
    /// Labels of the slice, row-major (first in-plane axis fastest).
    let labels: [Int32]
    /// Per label present on the slice.
    var maps: [Int32: LabelDistanceMap]

    /// Computes the maps of every label of `labels` (`width` x `height`, pixel spacing in mm);
    /// `margin` (pixels) bounds the window around each label (background: the whole slice).
    init(labels: [Int32], width: Int, height: Int, spacing: SIMD2<Float>, margin: Int = 12) {
        self.width = width; self.height = height; self.labels = labels
        var boxes: [Int32: (Int, Int, Int, Int, Int)] = [:] // x0, y0, x1, y1, area
        for y in 0..<height {
            for x in 0..<width {
                let l = labels[x + width * y]
                if var b = boxes[l] {
                    b.0 = min(b.0, x); b.1 = min(b.1, y); b.2 = max(b.2, x + 1); b.3 = max(b.3, y + 1); b.4 += 1
                    boxes[l] = b
                } else {
                    boxes[l] = (x, y, x + 1, y + 1, 1)
                }
            }
        }
        let far = Float(margin) * min(spacing.x, spacing.y)
        let half = 0.5 * min(spacing.x, spacing.y)
        let keys = Array(boxes.keys)
        var results = [LabelDistanceMap?](repeating: nil, count: keys.count)
        results.withUnsafeMutableBufferPointer { res in
            parallelFor(keys.count) { n in
                let l = keys[n]
                let b = boxes[l]!
                let x0 = l == 0 ? 0 : max(0, b.0 - margin), y0 = l == 0 ? 0 : max(0, b.1 - margin)
                let x1 = l == 0 ? width : min(width, b.2 + margin), y1 = l == 0 ? height : min(height, b.3 + margin)
                let w = x1 - x0, h = y1 - y0
                var inside = [Bool](repeating: false, count: w * h)
                for y in 0..<h { for x in 0..<w { inside[x + w * y] = labels[(x + x0) + width * (y + y0)] == l } }
                let toInside = squaredDistanceTransform(width: w, height: h, spacing: spacing) { inside[$0] }
                let toOutside = squaredDistanceTransform(width: w, height: h, spacing: spacing) { !inside[$0] }
                var values = [Float](repeating: 0, count: w * h)
                var depth: Float = 0
                for i in 0..<(w * h) {
                    if inside[i] {
                        let d = toOutside[i].isFinite ? toOutside[i].squareRoot() - half : far
                        values[i] = -d; depth = max(depth, d)
                    } else {
                        values[i] = min(far, toInside[i].squareRoot() - half)
                    }
                }
                res[n] = LabelDistanceMap(x0: x0, y0: y0, x1: x1, y1: y1, values: values, far: far, depth: depth, area: b.4)
            }
        }
        var maps: [Int32: LabelDistanceMap] = [:]
        for (n, l) in keys.enumerated() { maps[l] = results[n]! }
        self.maps = maps
    }
}

/// Fuses the shape evidence of one or two labelled slices on a target slice, per label and per pixel.
///
/// For label l and source slice s (distance weight `w_s`, the weights summing to 1), with `SD_s,l` its
/// signed distance map (a label missing on s takes the other source's map pushed outwards by
/// `vanishDepthFactor` times that map's depth plus `vanishPixels` pixels, so it shrinks to nothing
/// before the middle of the gap. 1.5 x depth + 1 pixel instead of depth + 1 pixel: on bench/fewshot
/// protocol-dev.json setting B (atlas, sub-00001) +0.002..0.003 Dice at 10 mm gaps and +0.003..0.004
/// at 20 mm; 1.5 x depth + 3 pixels gained another 0.001..0.003 there but lost 0.02 on the Colin27
/// sample's slices 44-46 between labelled slices 40 and 50, so the milder rule is kept):
///
///     D_l(x) = α Σ_s w'_s SD_s,l(x + u_s(x)) + (1 - α) Σ_s w_s SD_s,l(x)
///
/// where `u_s` is the registration map from the target to slice s (pixels; nil = identity), `w'_s`
/// the squared distance weights times the local image agreement `agreement[s]` (renormalised), and
/// α = `registrationWeight`. Background gets `backgroundBias` (mm) added: thin structures lose area
/// under distance interpolation, and a small bias gives it back. Each label's D is then averaged over
/// the (2 `smoothingRadius` + 1)² pixels around x (clipped at the slice border), which removes
/// single-pixel islands, holes and jagged edges that registration noise and brush slips leave, and
/// the label with the smallest averaged D wins (radius 1, a 3 x 3 mean: +0.003 mean Dice at N = 5
/// and N = 10 on protocol-dev.json setting B, every volume better; radius 0 is the plain rule).
///
/// Confidence (0...1) is the agreement of the evidence: half the share of evidence (each source's
/// registered label with weight α w'_s, the in-place shape winner with weight 1 - α) that names the
/// chosen label, half how clearly it wins (margin to the runner-up over one pixel, capped at 1).
/// Candidates whose averaged distances `fuseShapes` holds at once (memory: this many slices of Float).
let fuseShapesChunk = 16

func fuseShapes(sources: [(SliceShape, Float)], maps: [[SIMD2<Float>]?], agreement: [[Float]]?,
                registrationWeight alpha: Float, width: Int, height: Int, pixelSize: Float,
                backgroundBias: Float = 0, vanishDepthFactor: Float = 1.5, vanishPixels: Float = 1,
                smoothingRadius: Int = 1) -> (labels: [Int32], confidence: [Float]) {
    let n = sources.count
    let count = width * height
    var outLabels = [Int32](repeating: 0, count: count)
    var outConf = [Float](repeating: 0, count: count)
    guard n > 0 else { return (outLabels, outConf) }
    var labelSet = Set<Int32>()
    for (s, _) in sources { labelSet.formUnion(s.maps.keys) }
    let candidates = labelSet.sorted()
    let c = candidates.count
    // Per candidate and source: the map to sample, which source's position to sample it at, and an offset.
    var table: [LabelDistanceMap] = []
    var from: [Int] = []
    var offset: [Float] = []
    for l in candidates {
        for s in 0..<n {
            if let m = sources[s].0.maps[l] {
                table.append(m); from.append(s); offset.append(0)
            } else {
                // Present on the other source (n == 2): its map, pushed out beyond its depth.
                let o = 1 - s
                let m = sources[o].0.maps[l]!
                table.append(m); from.append(o); offset.append(vanishDepthFactor * m.depth + vanishPixels * pixelSize)
            }
        }
    }
    let w = sources.map { $0.1 }
    // Registered evidence: the nearer slice counts more than linearly (its chain is shorter).
    let wp: [Float] = {
        let r = w.map { $0 * $0 }
        let t = r.reduce(0, +)
        return t > 0 ? r.map { $0 / t } : w
    }()
    let bgIndex = candidates.firstIndex(of: 0)
    // Memory is proportional to the pixels, not labels x pixels (AAL has 117 candidates): the candidates'
    // averaged distances are made a chunk at a time and folded into a running best / runner-up per
    // pixel, in candidate order, so the result is the one of comparing all candidates at once.
    let chunk = min(c, fuseShapesChunk)
    let positions = UnsafeMutableBufferPointer<SIMD2<Float>>.allocate(capacity: n * count)
    let weights = UnsafeMutableBufferPointer<Float>.allocate(capacity: n * count)
    let planes = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk * count)
    let shapeBest = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    let shapeWinner = UnsafeMutableBufferPointer<Int32>.allocate(capacity: count)
    let best = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    let second = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    let bestIndex = UnsafeMutableBufferPointer<Int32>.allocate(capacity: count)
    defer {
        positions.deallocate(); weights.deallocate(); planes.deallocate(); shapeBest.deallocate()
        shapeWinner.deallocate(); best.deallocate(); second.deallocate(); bestIndex.deallocate()
    }
    planes.initialize(repeating: 0)
    shapeBest.initialize(repeating: .infinity); shapeWinner.initialize(repeating: 0)
    best.initialize(repeating: .infinity); second.initialize(repeating: .infinity); bestIndex.initialize(repeating: 0)
    // Pass 1: each source's sampling position and (renormalised) registered-evidence weight per pixel.
    parallelFor(height) { y in
        for x in 0..<width {
            let p = x + width * y
            var total: Float = 0
            for s in 0..<n {
                let u = maps[s]?[p] ?? .zero
                (positions.baseAddress! + (s * count + p)).initialize(to: SIMD2(Float(x), Float(y)) + u)
                let r = wp[s] * (agreement?[s][p] ?? 1)
                (weights.baseAddress! + (s * count + p)).initialize(to: r)
                total += r
            }
            if total > 0 { for s in 0..<n { weights[s * count + p] /= total } } else { for s in 0..<n { weights[s * count + p] = wp[s] } }
        }
    }
    for c0 in stride(from: 0, to: c, by: chunk) {
        let c1 = min(c, c0 + chunk)
        // Pass 2: blended distance of this chunk's candidates (candidate-major), and the in-place shape winner so far.
        parallelFor(height) { y in
            for x in 0..<width {
                let p = x + width * y
                for ci in c0..<c1 {
                    var reg: Float = 0, sh: Float = 0
                    for s in 0..<n {
                        let m = table[ci * n + s]
                        let o = offset[ci * n + s]
                        let f = from[ci * n + s]
                        if alpha > 0 {
                            let q = positions[f * count + p]
                            reg += weights[s * count + p] * (m.sample(q.x, q.y) + o)
                        }
                        sh += w[s] * (m.value(x, y) + o)
                    }
                    var d = alpha * reg + (1 - alpha) * sh
                    if ci == bgIndex { d += backgroundBias }
                    planes[(ci - c0) * count + p] = d
                    if sh < shapeBest[p] { shapeBest[p] = sh; shapeWinner[p] = Int32(ci) }
                }
            }
        }
        // Pass 3: each candidate's distances averaged over the box around every pixel.
        if smoothingRadius > 0 {
            parallelFor(c1 - c0) { k in
                let plane = UnsafeMutableBufferPointer(rebasing: planes[(k * count)..<((k + 1) * count)])
                boxMean2D(plane, width: width, height: height, radius: smoothingRadius)
            }
        }
        // Pass 4: the best and the runner-up so far.
        parallelFor(height) { y in
            for p in (width * y)..<(width * (y + 1)) {
                for ci in c0..<c1 {
                    let d = planes[(ci - c0) * count + p]
                    if d < best[p] { second[p] = best[p]; best[p] = d; bestIndex[p] = Int32(ci) } else if d < second[p] { second[p] = d }
                }
            }
        }
    }
    // Pass 5: the winner, its margin and the share of the evidence that names it.
    outLabels.withUnsafeMutableBufferPointer { ol in
        outConf.withUnsafeMutableBufferPointer { oc in
            parallelFor(height) { y in
                for x in 0..<width {
                    let p = x + width * y
                    let bi = Int(bestIndex[p])
                    let label = candidates[bi]
                    var agree: Float = (1 - alpha) * (Int(shapeWinner[p]) == bi ? 1 : 0)
                    if alpha > 0 {
                        for s in 0..<n {
                            let q = positions[s * count + p]
                            let sx = min(max(Int(q.x.rounded()), 0), width - 1), sy = min(max(Int(q.y.rounded()), 0), height - 1)
                            if sources[s].0.labels[sx + width * sy] == label { agree += alpha * weights[s * count + p] }
                        }
                    }
                    let margin = second[p].isFinite ? min(1, (second[p] - best[p]) / pixelSize) : 1
                    ol[p] = label
                    oc[p] = 0.5 * agree + 0.5 * margin
                }
            }
        }
    }
    return (outLabels, outConf)
}

/// Replaces every value of a `width` x `height` image (row-major) by the mean over the square of
/// half-width `radius` pixels around it, clipped at the border (separable running sums, accumulated
/// in Double: a Float prefix sum loses the window's digits on long rows of large values).
func boxMean2D(_ a: UnsafeMutableBufferPointer<Float>, width: Int, height: Int, radius: Int) {
    guard radius > 0, width > 0, height > 0 else { return }
    var prefix = [Double](repeating: 0, count: max(width, height) + 1)
    func pass(_ n: Int, _ lines: Int, _ index: (Int, Int) -> Int) {
        for j in 0..<lines {
            prefix[0] = 0
            for i in 0..<n { prefix[i + 1] = prefix[i] + Double(a[index(j, i)]) }
            for i in 0..<n {
                let lo = max(0, i - radius), hi = min(n, i + radius + 1)
                a[index(j, i)] = Float((prefix[hi] - prefix[lo]) / Double(hi - lo))
            }
        }
    }
    pass(width, height) { y, x in x + width * y }
    pass(height, width) { x, y in x + width * y }
}

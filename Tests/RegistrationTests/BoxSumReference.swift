/// Box sums by brute force (every window summed voxel by voxel, in Double): the reference the
/// production box sums (`Filters.boxSumInPlace`, `Filters.boxSumsOfProducts`) are checked against.
func referenceBoxSum(_ x: [Float], size: SIMD3<Int>, radius: SIMD3<Int>) -> [Float] {
    let r = SIMD3(size.x > 1 ? radius.x : 0, size.y > 1 ? radius.y : 0, size.z > 1 ? radius.z : 0)
    var out = [Float](repeating: 0, count: x.count)
    for k in 0..<size.z { for j in 0..<size.y { for i in 0..<size.x {
        var s = 0.0
        for c in max(0, k - r.z)...min(size.z - 1, k + r.z) {
            for b in max(0, j - r.y)...min(size.y - 1, j + r.y) {
                for a in max(0, i - r.x)...min(size.x - 1, i + r.x) { s += Double(x[a + size.x * (b + size.y * c)]) }
            }
        }
        out[i + size.x * (j + size.y * k)] = Float(s)
    } } }
    return out
}

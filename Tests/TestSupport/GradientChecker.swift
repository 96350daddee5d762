/// Finite-difference checks of analytic gradients (the law every metric, transformation and
/// regulariser must pass).
public struct GradientCheck: Sendable, CustomStringConvertible {
    /// Directional derivatives `(f(x + h d) - f(x - h d)) / 2h` and `∇f · d`, per direction.
    public var numeric: [Double]
    public var analytic: [Double]

    /// Largest `|numeric - analytic|` over the directions, relative to the largest directional
    /// derivative seen (so a direction nearly orthogonal to the gradient cannot dominate).
    public func relativeError(floor: Double = 1e-12) -> Double {
        let scale = max((numeric + analytic).map(abs).max() ?? 0, floor)
        return (zip(numeric, analytic).map { abs($0 - $1) }.max() ?? 0) / scale
    }

    public var description: String {
        zip(numeric, analytic).map { "numeric \($0) analytic \($1)" }.joined(separator: "; ")
    }
}

/// Compares the gradient of `f` at `x` with central differences along `directions` pseudo-random
/// unit directions (seeded, so the check is reproducible). `gradient` is ∂f/∂x at `x`; `step` is the
/// finite-difference step along each unit direction, in the units of `x`.
public func checkGradient(of f: ([Double]) -> Double, gradient: [Double], at x: [Double],
                          directions: Int = 4, step: Double = 1e-3, seed: UInt64 = 1) -> GradientCheck {
    precondition(gradient.count == x.count)
    var rng = SplitMix64(seed: seed)
    var numeric: [Double] = [], analytic: [Double] = []
    for _ in 0..<directions {
        var d = (0..<x.count).map { _ in rng.nextDouble() * 2 - 1 }
        let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        d = d.map { $0 / norm }
        let plus = zip(x, d).map { $0 + step * $1 }, minus = zip(x, d).map { $0 - step * $1 }
        numeric.append((f(plus) - f(minus)) / (2 * step))
        analytic.append(zip(gradient, d).reduce(0) { $0 + $1.0 * $1.1 })
    }
    return GradientCheck(numeric: numeric, analytic: analytic)
}

/// A small deterministic generator (SplitMix64) for test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

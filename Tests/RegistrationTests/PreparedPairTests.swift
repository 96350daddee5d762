@testable import Registration
import Testing
import TestSupport
import VolumeCore

/// A prepared pair (`PreparedPair`) serves only a registration of its own two images, once, even
/// when threads race for it.
@Suite struct PreparedPairTests {
    static let grid = EngineTests.grid

    /// A pair prepared from other images on the same grids (a cohort's next subject) is not used:
    /// the registration's result is the one without a prepared pair (it used the other images'
    /// pyramid when only the grids were compared).
    @Test func otherImagesOnTheSameGridsAreNotUsed() throws {
        let (fixed, moving) = EngineTests.pair()
        let other = Phantom.image(Self.grid, centre: Self.grid.centre + SIMD3(-2, 1.5, 1))
        let plan = EngineTests.smallPlan()
        let plain = try Registration.register(fixed: fixed, moving: moving, plan: plan)
        let stale = try Registration.register(fixed: fixed, moving: moving, plan: plan,
                                              prepared: PreparedPair(fixed: fixed, moving: other))
        // (Booleans: a failure prints the verdict, not 30 000 floats.)
        let sameAffine = stale.affine == plain.affine, sameField = stale.field.data == plain.field.data
        #expect(sameAffine && sameField)
        // The same images (an equal copy counts) still get the prepared pair, with the same result.
        let copy = Volume(geometry: moving.geometry, voxels: moving.voxels.map { $0 })
        let prepared = PreparedPair(fixed: fixed, moving: copy)
        let reused = try Registration.register(fixed: fixed, moving: moving, plan: plan, prepared: prepared)
        let sameAgain = reused.field.data == plain.field.data
        #expect(sameAgain)
        #expect(Registration.modalityEvidence(prepared) == nil, "the registration took the pair over")
    }

    /// A refused hand-over does not use the pair up; a granted one does.
    @Test func takeChecksTheImages() throws {
        let (fixed, moving) = EngineTests.pair()
        let pair = PreparedPair(fixed: fixed, moving: moving)
        var shifted = moving
        shifted.voxels[shifted.voxels.count / 2] += 0.25
        #expect(pair.take(fixed: fixed, moving: shifted) == nil)
        #expect(pair.take(fixed: moving, moving: fixed) == nil)
        #expect(pair.take(fixed: fixed, moving: moving) != nil)
        #expect(pair.take(fixed: fixed, moving: moving) == nil)
    }

    /// Two threads taking one pair at once: exactly one gets it, every time; a check running
    /// while a registration takes the pair finishes first (the taker waits) or finds it gone.
    @Test func oneTakerWins() throws {
        let (fixed, moving) = EngineTests.pair()
        for _ in 0..<200 {
            let pair = PreparedPair(fixed: fixed, moving: moving)
            let got = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 2)
            defer { got.deallocate() }
            runOnThreads(2) { t in got[t] = pair.take(fixed: fixed, moving: moving) != nil }
            #expect(got.filter { $0 }.count == 1)
        }
        for _ in 0..<5 {
            let pair = PreparedPair(fixed: fixed, moving: moving)
            let checked = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 2)
            defer { checked.deallocate() }
            runOnThreads(2) { t in
                if t == 0 { checked[0] = Registration.modalityEvidence(pair) != nil } else {
                    checked[1] = pair.take(fixed: fixed, moving: moving) != nil
                }
            }
            #expect(checked[1], "the taker always gets the pair (after the check, if it was running)")
        }
    }
}

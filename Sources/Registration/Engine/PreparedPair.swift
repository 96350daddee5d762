import Synchronization
import VolumeCore

/// A fixed and a moving image rescaled for registration once (0.5th-99.5th percentile to [0, 1]),
/// with the pyramid levels computed so far: the automatic metric choice and the registration that
/// follows share them (`Registration.modalitiesDiffer(_:token:)`, then
/// `Registration.register(fixed:moving:plan:prepared:...)`), so the images are rescaled and their
/// coarse level smoothed once. A registration takes the prepared images over (they are freed with
/// its pyramid, before its final fields); a pair serves one registration, and only one of the
/// same two images (same grids and voxels; `take(fixed:moving:)`). Safe to share between threads:
/// the check and the hand-over hold the pair's lock, so they never use the pyramid at once.
public final class PreparedPair: @unchecked Sendable {
    /// Guards the three properties below.
    private let lock = Mutex(())
    private var pyramid: Pyramid?
    /// The images the pair was made from (the caller's own arrays, not copies), held until the
    /// pyramid is taken, to recognise them (`take`).
    private var fixed: Volume?, moving: Volume?

    /// Rescales both images (at once, each with half of this thread's thread count; seconds for a
    /// 1 mm brain).
    public init(fixed: Volume, moving: Volume) {
        var f: Volume?, m: Volume?
        runSharingThreads(2) { i in
            if i == 0 { f = Pyramid.normalised(fixed) } else { m = Pyramid.normalised(moving) }
        }
        pyramid = Pyramid(fixed: f!, moving: m!)
        self.fixed = fixed; self.moving = moving
    }

    /// Runs `body` on the pyramid under the pair's lock (nil once it has been taken).
    func withPyramid<T>(_ body: (Pyramid) -> T) -> T? {
        lock.withLock { _ in pyramid.map(body) }
    }

    /// The pyramid, handed over once to a registration of the same two images: the same grids and
    /// the same voxels (the same arrays, found at once, or equal copies, compared voxel by voxel).
    /// Nil after the first hand-over, or for other images, which then do not use the pair up.
    func take(fixed: Volume, moving: Volume) -> Pyramid? {
        lock.withLock { _ in
            guard let p = pyramid, fixed == self.fixed, moving == self.moving else { return nil }
            pyramid = nil; self.fixed = nil; self.moving = nil
            return p
        }
    }
}

import ArgumentParser
import VoxtermModel

extension LabelInterpolation: ExpressibleByArgument {}

/// `--label-interpolation`: how `register` and `bench register` carry the moving labels to the
/// fixed grid.
struct LabelInterpolationOption: ParsableArguments {
    @Option(help: "How moving labels are sampled between voxels: generic (ANTs' GenericLabel: each label around the point interpolated linearly, the largest wins; default) or nearest (nearest voxel, as before).")
    var labelInterpolation: LabelInterpolation = .generic
}

import VolumeCore

extension LabelOverlay {
    /// An overlay with a palette already built (no pass over the label map), for callers that
    /// rebuild overlays often, such as the workbench while labels are edited.
    public init(labels: LabelVolume, truth: LabelVolume? = nil, palette: LabelPalette, style: LabelStyle) {
        self.labels = labels
        self.truth = truth
        self.palette = palette
        self.style = style
    }
}

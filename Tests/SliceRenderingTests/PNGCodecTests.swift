import Testing
import SliceRendering
import VolumeCore

/// PNG through libpng's simplified API, with text chunks spliced in.
@Suite struct PNGCodecTests {
    @Test func roundTripsPixelsAndText() throws {
        var img = RGBAImage(width: 7, height: 5, fill: RGBA8(10, 20, 30))
        img[3, 2] = RGBA8(255, 0, 128, 200)
        let text = [(key: "Source", value: "/tmp/a b.nii.gz"), (key: "Plane", value: "axial"), (key: "Title", value: "Gehirn µ → ok")]
        let bytes = try PNGCodec.encode(img, text: text)
        let back = try PNGCodec.decode(bytes)
        #expect(back == img)
        let read = try PNGCodec.readText(bytes)
        #expect(read.map(\.key) == ["Source", "Plane", "Title"])
        #expect(read.map(\.value) == text.map(\.value))
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(PNGCodec.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func corruptedChunkIsDetected() throws {
        var bytes = try PNGCodec.encode(RGBAImage(width: 2, height: 2), text: [(key: "k", value: "v")])
        let i = bytes.count - 14 // inside the tEXt chunk's data/CRC, before IEND
        bytes[i] ^= 0xFF
        #expect(throws: PNGError.self) { try PNGCodec.readText(bytes) }
        #expect(throws: PNGError.self) { try PNGCodec.decode(Array(bytes.prefix(20))) }
    }

    @Test func emptyImageIsRefused() {
        #expect(throws: PNGError.self) { try PNGCodec.encode(RGBAImage(width: 0, height: 3)) }
    }
}

/// Windows and colour maps.
@Suite struct WindowTests {
    @Test func windowNeedsLowBelowHigh() {
        #expect(IntensityWindow(low: 5, high: 5) == nil)
        #expect(IntensityWindow(low: 6, high: 5) == nil)
        #expect(IntensityWindow(low: .nan, high: 5) == nil)
        #expect(IntensityWindow.widened(3, 3) == IntensityWindow(low: 3, high: 4))
    }

    @Test func automaticWindowUsesPercentiles() {
        var v = Volume(geometry: VolumeGeometry(size: [1000, 1, 1]))
        for i in 0..<1000 { v.voxels[i] = Float(i) }
        v.voxels[999] = 1e9 // an outlier above the 99.5th percentile
        let w = IntensityWindow.automatic(v)
        // No flat background: the 2nd and 99.5th percentiles of every voxel.
        #expect(abs(w.low - 19.98) < 0.01 && w.high < 1000)
    }

    @Test func nanAndInfinitiesDoNotBreakRendering() {
        var v = Volume(geometry: VolumeGeometry(size: [4, 1, 1]))
        v.voxels = [.nan, .infinity, -.infinity, 5]
        let img = SliceScene(image: v, window: IntensityWindow(low: 0, high: 10)!).render(plane: .axial, options: .native)
        #expect(img[0, 0] == RGBA8(0, 0, 0) && img[1, 0] == RGBA8(255, 255, 255) && img[2, 0] == RGBA8(0, 0, 0))
        #expect(img[3, 0] == RGBA8(128, 128, 128))
    }

    @Test func colourMapsRunFromDarkToBrightAndViridisMatchesMatplotlib() {
        for m in [ColorMap.gray, .hot, .viridis] {
            let t = m.table.colors
            func lum(_ c: RGBA8) -> Int { Int(c.r) * 3 + Int(c.g) * 6 + Int(c.b) }
            #expect(lum(t[0]) < lum(t[128]) && lum(t[128]) < lum(t[255]), "\(m)")
        }
        // matplotlib's viridis at 0, 1/4, 1/2 (#21918c, between table entries 127 and 128), 3/4, 1.
        let v = ColorMap.viridis
        for (t, ref) in [(0.0, RGBA8(0x44, 0x01, 0x54)), (0.25, RGBA8(0x3b, 0x52, 0x8b)), (0.5, RGBA8(0x21, 0x91, 0x8c)),
                         (0.75, RGBA8(0x5d, 0xc8, 0x63)), (1.0, RGBA8(0xfd, 0xe7, 0x25))] {
            let c = v.color(at: t)
            #expect(abs(Int(c.r) - Int(ref.r)) <= 1 && abs(Int(c.g) - Int(ref.g)) <= 1 && abs(Int(c.b) - Int(ref.b)) <= 1, "\(t): \(c) vs \(ref)")
        }
        #expect(ColorMap.bwr.table.colors[128] == RGBA8(255, 254, 254) || ColorMap.bwr.table.colors[127] == RGBA8(254, 254, 255))
    }
}

/// The display's percentiles (by `Volume.percentileNeighbours`) are the sorted definition's, exactly.
@Suite struct PercentileTests {
    @Test(arguments: [0, 1, 7, 1000, 16_384, 16_385, 200_003])
    func agreesWithTheSortedDefinition(count: Int) {
        var rng = SystemRandomNumberGenerator()
        var values = (0..<count).map { _ in Float.random(in: -50...300, using: &rng).rounded() * (Bool.random() ? 1 : 0.37) }
        if count > 10 { values[3] = .nan; values[5] = 1e30; values[6] = -.infinity }
        let v = Volume(geometry: VolumeGeometry(size: [max(count, 1), 1, 1]), voxels: count == 0 ? [0] : values)
        let ps = [0, 0.005, 0.3, 0.5, 0.995, 1]
        let fast = IntensityWindow.percentiles(v.voxels, ps)
        let sorted = v.voxels.filter(\.isFinite).sorted()
        let expected: [Double] = sorted.isEmpty ? ps.map { _ in 0 } : ps.map { p in
            let r = p * Double(sorted.count - 1)
            let lo = Int(r.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
            let f = r - Double(lo)
            return sorted[lo] == sorted[hi] ? Double(sorted[lo]) : Double(sorted[lo]) * (1 - f) + Double(sorted[hi]) * f
        }
        #expect(fast == expected)
    }

    @Test func constantAndEmptyInputs() {
        #expect(IntensityWindow.percentiles([4, 4, 4], [0.1, 0.9]) == [4, 4])
        #expect(IntensityWindow.percentiles([.nan], [0.5]) == [0])
    }
}

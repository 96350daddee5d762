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

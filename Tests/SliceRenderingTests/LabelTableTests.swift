import Foundation
import Testing
import SliceRendering
import VolumeCore

/// Label tables: the three text formats, mricron's binary .lut, and the default palette.
@Suite struct LabelTableTests {
    @Test func readsIndexNameCodeWithCRLF() throws {
        let t = try LabelTable.parse(text: "1 Precentral_L 2001\r\n2 Precentral_R 2002\r\n\r\n95 Cerebelum_3_L 9031\r\n")
        #expect(t.format == .indexName)
        #expect(t.entries.count == 3)
        #expect(t.name(of: 2) == "Precentral_R")
        #expect(t.name(of: 95) == "Cerebelum_3_L")
        #expect(t.color(of: 1) == LabelTable.defaultColor(1))
        #expect(t.values(named: ["precentral_l", "95", "Nope"]) == ([1, 95], ["Nope"]))
    }

    @Test func readsTabSeparatedNamesWithoutCode() throws {
        let t = try LabelTable.parse(text: "0\tUnclassified\n7\tCorticospinal_tract_R\n")
        #expect(t.name(of: 7) == "Corticospinal_tract_R")
    }

    @Test func readsITKSnapDescriptions() throws {
        let text = """
            ################################################
            # ITK-SnAP Label Description File
            #    IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
            ################################################
                0     0    0    0        0  0  0    "Clear Label"
                1   255    0    0        1  1  1    "Left Hippocampus"
                2     0  255    0      0.5  0  1    "Right Hippo campus"
            """
        let t = try LabelTable.parse(text: text)
        #expect(t.format == .itkSnap)
        #expect(t.entries[1] == LabelEntry(value: 1, name: "Left Hippocampus", color: RGBA8(255, 0, 0, 255)))
        #expect(t.entries[2]?.name == "Right Hippo campus")
        #expect(t.entries[2]?.color == RGBA8(0, 255, 0, 128))
        #expect(t.entries[2]?.visible == false)
        // Hidden in the file: not drawn unless asked for.
        #expect(!LabelPalette(table: t).isVisible(2))
        #expect(LabelPalette(table: t, visibleLabels: [2]).isVisible(2))
    }

    @Test func readsFreeSurferColourTables() throws {
        let text = """
            #$Id: FreeSurferColorLUT.txt
            #No. Label Name:                            R   G   B   A
            0   Unknown                                 0   0   0   0
            2   Left-Cerebral-White-Matter              245 245 245 0
            1035 ctx-lh-insula                          255 192 32  0
            """
        let t = try LabelTable.parse(text: text)
        #expect(t.format == .freeSurfer)
        #expect(t.color(of: 2) == RGBA8(245, 245, 245, 255))
        #expect(t.name(of: 1035) == "ctx-lh-insula")
        // Large label values use the sparse path of the palette.
        let p = LabelPalette(table: t, present: [1035, 5000])
        #expect(p.packedColor(1035) == packRGBA(RGBA8(255, 192, 32)))
        #expect(p.packedColor(5000) == packRGBA(LabelTable.defaultColor(5000)))
    }

    @Test func readsMricronBinaryLUT() throws {
        var bytes = [UInt8](repeating: 0, count: 768)
        bytes[5] = 200; bytes[256 + 5] = 10; bytes[512 + 5] = 0
        let t = try LabelTable.parse(bytes)
        #expect(t.format == .mricronLUT)
        #expect(t.color(of: 5) == RGBA8(200, 10, 0))
    }

    @Test func reportsTheBadLine() {
        #expect(throws: LabelTableError.self) { try LabelTable.parse(text: "# only comments\n") }
        do {
            _ = try LabelTable.parse(text: "1 ok\nbanana split\n", path: "t.txt")
            Issue.record("expected an error")
        } catch let e as LabelTableError {
            #expect(e.description.hasPrefix("t.txt: line 2"))
        } catch { Issue.record("\(error)") }
    }

    @Test func defaultPaletteIsDistinctAndStable() {
        let colors = (1...60).map { LabelTable.defaultColor(Int32($0)) }
        #expect(Set(colors).count == 60)
        for i in 1..<colors.count {
            let a = colors[i - 1], b = colors[i]
            let d = abs(Int(a.r) - Int(b.r)) + abs(Int(a.g) - Int(b.g)) + abs(Int(a.b) - Int(b.b))
            #expect(d > 60, "labels \(i) and \(i + 1) look alike")
        }
        #expect(LabelTable.defaultColor(0).a == 0)
        #expect(LabelTable.defaultColor(7) == RGBA8(70, 240, 240))
    }

    @Test func readsMricronAALWhenInstalled() throws {
        let path = "/usr/share/mricron/templates/aal.nii.txt"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let t = try LabelTable.read(path)
        #expect(t.entries.count == 116)
        #expect(t.name(of: 1) == "Precentral_L" && t.name(of: 116) == "Vermis_10")
    }

    @Test func labelOverlayHonoursOnlyAndOutline() {
        let g = VolumeGeometry(size: [9, 9, 1])
        var l = LabelVolume(geometry: g)
        for j in 2...6 { for i in 2...6 { l[i, j, 0] = 4 } }
        l[0, 0, 0] = 9
        let fill = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                              labels: LabelOverlay(labels: l, style: LabelStyle(opacity: 1, visibleLabels: [4])))
            .render(plane: .axial, options: .native)
        let c4 = LabelTable.defaultColor(4)
        #expect(fill.pixels { $0 == c4 }.count == 25)
        #expect(fill.pixels { $0 == LabelTable.defaultColor(9) }.isEmpty)
        let outline = SliceScene(image: Volume(geometry: g), window: IntensityWindow(low: 0, high: 1)!,
                                 labels: LabelOverlay(labels: l, style: LabelStyle(opacity: 1, outline: true)))
            .render(plane: .axial, options: .native)
        #expect(outline.pixels { $0 == c4 }.count == 16) // the 5x5 square's boundary ring
    }

    @Test func comparisonCountsAndColours() {
        let n = 6
        var img = RGBAImage(width: n, height: 1)
        let pred: [Int32] = [1, 1, 0, 2, 2, 0], truth: [Int32] = [1, 0, 1, 2, 3, 0]
        let counts = pred.withUnsafeBufferPointer { p in truth.withUnsafeBufferPointer { t in
            img.compositeComparison(prediction: p, truth: t, palette: LabelPalette(table: .palette), style: LabelStyle(opacity: 1))
        } }
        #expect(counts.truePositive == 2 && counts.falsePositive == 2 && counts.falseNegative == 1)
        #expect(img[0, 0] == ComparisonColors.truePositive && img[1, 0] == ComparisonColors.falsePositive)
        #expect(img[2, 0] == ComparisonColors.falseNegative && img[4, 0] == ComparisonColors.falsePositive)
        #expect(img[5, 0] == RGBA8(0, 0, 0))
    }
}

/// Inputs the fuzzer (Fuzz/LabelTableFuzz.swift) found crashing, kept as regressions.
@Suite struct LabelTableFuzzRegressions {
    @Test func hugeOpacityDoesNotTrap() throws {
        // An ITK-SNAP line whose alpha field is a 30-digit number used to overflow Int().
        let text = "    2     0  496    0  \(String(repeating: "2", count: 30))  1  1    \"Left hippocampus\"\n    3 0 0 0 nan 1 1 \"x\"\n"
        let t = try LabelTable.parse(text: text)
        #expect(t.entries[2]?.color.a == 255)
        #expect(t.entries[3]?.color.a == 255)
    }
}

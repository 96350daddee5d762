// Fuzz target: ITK / ANTs transform text files parsed from memory; a transform read is written
// back and must read back to itself.

func fuzzITKTransform(_ data: UnsafeRawBufferPointer) {
    guard let affine = try? ITKTransformFile.parse(Array(data), path: "fuzz.tfm") else { return }
    let again = try? ITKTransformFile.parse(Array(ITKTransformFile.text(for: affine).utf8), path: "again.tfm")
    if again != affine { fatalError("transform did not survive a write and a read: \(affine) vs \(String(describing: again))") }
}

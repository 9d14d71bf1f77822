import HCL

/// Reads every node of a parsed file the way the linter does: literal values, references and the
/// source text of each range, so a tree with a bad range or a runaway depth fails here too.
public func walk(_ file: HCLFile) {
    _ = file.diagnostics.map(\.description)
    walk(file.body, in: file)
}

func walk(_ body: HCLBody, in file: HCLFile) {
    _ = file.text(of: body.range)
    for attribute in body.attributes {
        _ = file.text(of: attribute.nameRange)
        attribute.value.visit { expression in
            _ = expression.literalValue
            _ = expression.objectKey
            _ = expression.references.map { file.text(of: $0.range) }
            _ = file.text(of: expression.range)
            return true
        }
    }
    for block in body.blocks {
        _ = block.labelRanges.map(file.text(of:))
        walk(block.body, in: file)
    }
}

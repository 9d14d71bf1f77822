import CYaml

extension PipelineLoader {
    /// How many values a pipeline file's aliases may add once they are expanded. Real files add a few
    /// hundred. Yams expands every alias into a copy of its anchor's tree, so a few hundred bytes of
    /// aliases of aliases (a "billion laughs") would make a tree that takes hours to walk or hash.
    /// Values written out count nothing here: they cost what the file's size costs, so a pipeline of
    /// 20,000 stacks is read, where counting them once refused every file of more than 10,000 values.
    public static let maxValues = 10_000

    /// Where the aliases add more than `maxValues` values to the document, counted from libyaml's
    /// events before any tree is built (each alias adds the size of its anchor's value). Nil
    /// when the file stays within the limit, or does not parse (the composer then says why).
    static func aliasExpansionOverflow(_ text: String) -> (line: Int, column: Int)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var sizes: [String: Int] = [:]
            var open: [(anchor: String?, size: Int)] = []
            var total = 0
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let anchor: UnsafeMutablePointer<yaml_char_t>?
                let size: Int
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let start = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                    open.append((start.map { String(cString: $0) }, 1))
                    continue
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let closed = open.popLast() else { return nil }
                    if let name = closed.anchor { sizes[name] = closed.size }
                    if !open.isEmpty { open[open.count - 1].size += closed.size }
                    continue
                case YAML_SCALAR_EVENT:
                    (anchor, size) = (event.data.scalar.anchor, 1)
                case YAML_ALIAS_EVENT:
                    (anchor, size) = (nil, event.data.alias.anchor.flatMap { sizes[String(cString: $0)] } ?? 1)
                default:
                    continue
                }
                if let anchor { sizes[String(cString: anchor)] = size }
                if !open.isEmpty { open[open.count - 1].size += size }
                guard event.type == YAML_ALIAS_EVENT else { continue }
                total += size
                if total > maxValues {
                    return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                }
            }
            return nil
        }
    }
}

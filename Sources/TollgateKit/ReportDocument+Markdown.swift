import Foundation

extension ReportDocument {
    /// GitHub-flavoured Markdown; the stage flow becomes a Mermaid block, which GitHub draws.
    public func markdown() -> String {
        var lines = ["# \(title)", ""]
        for block in blocks {
            lines += block.markdownLines()
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// Each section's heading and its blocks as Markdown, for a JSON rendering; blocks before the
    /// first heading come under the title.
    public func sections() -> [(heading: String, markdown: String)] {
        var sections: [(heading: String, markdown: String)] = []
        var heading = title
        var lines: [String] = []
        func close() {
            if !lines.isEmpty || heading != title { sections.append((heading, lines.joined(separator: "\n\n"))) }
            lines = []
        }
        for block in blocks {
            if case .heading(let text) = block {
                close()
                heading = text
                continue
            }
            lines.append(block.markdownLines().joined(separator: "\n"))
        }
        close()
        return sections
    }
}

extension ReportBlock {
    func markdownLines() -> [String] {
        switch self {
        case .heading(let text):
            return ["## \(text)"]
        case .paragraph(let text):
            return [text.markdown(inTable: false)]
        case .preformatted(let lines):
            return ["```"] + lines + ["```"]
        case .table(let header, let rows):
            var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
            for row in rows {
                lines.append("| " + row.map { $0.markdown(inTable: true) }.joined(separator: " | ") + " |")
            }
            return lines
        case .list(let ordered, let items):
            return items.enumerated().map { index, item in
                (ordered ? "\(index + 1). " : "- ") + item.markdown(inTable: false)
            }
        case .flow(let flow):
            return ["```mermaid"] + flow.mermaid() + ["```"]
        }
    }
}

extension RichText {
    /// Inline Markdown. In a table cell a `|` would end the cell, so it is escaped there, and line
    /// breaks become `<br>` (a cell cannot hold a newline).
    func markdown(inTable: Bool) -> String {
        spans.map { span in
            switch span {
            case .text(let text):
                return inTable ? text.replacingOccurrences(of: "|", with: "\\|") : text
            case .code(let text):
                let fence = text.contains("`") ? "``" : "`"
                let body = inTable ? text.replacingOccurrences(of: "|", with: "\\|") : text
                return fence + (fence == "``" ? " \(body) " : body) + fence
            case .strong(let text):
                return "**\(text)**"
            case .lineBreak:
                return inTable ? "<br>" : "  \n"
            }
        }.joined()
    }
}

extension StageFlow {
    /// Mermaid `flowchart LR` lines; each node's shape is given where it first appears.
    func mermaid() -> [String] {
        var lines = ["flowchart LR"]
        var drawn: Set<String> = []
        func node(_ id: String) -> String {
            guard drawn.insert(id).inserted, let node = nodes.first(where: { $0.id == id }) else { return id }
            if node.isStart { return "\(id)([\(node.label)])" }
            return node.label == id ? id : "\(id)[\(node.label)]"
        }
        for edge in edges {
            let arrow = edge.label.map { "-->|\($0)|" } ?? "-->"
            lines.append("  \(node(edge.from)) \(arrow) \(node(edge.to))")
        }
        for lone in nodes where !drawn.contains(lone.id) {
            lines.append("  \(node(lone.id))")
        }
        return lines
    }
}

import Foundation

extension ReportDocument {
    /// One self-contained HTML file: styles inline, the stage flow drawn as inline SVG, no script
    /// and no reference to anything outside the file, so it opens the same offline, in an archive
    /// or as a CI artefact.
    public func html() -> String {
        var body: [String] = []
        var contents: [String] = []
        var sectionOpen = false
        for block in blocks {
            if case .heading(let text) = block {
                if sectionOpen { body.append("</section>") }
                let id = Self.anchor(text)
                contents.append("<li><a href=\"#\(id)\">\(Markup.html(text))</a></li>")
                body.append("<section id=\"\(id)\">")
                sectionOpen = true
            }
            body.append(block.html())
        }
        if sectionOpen { body.append("</section>") }
        var page = [
            "<!DOCTYPE html>",
            "<html lang=\"en\">",
            "<head>",
            "<meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<meta name=\"generator\" content=\"tollgate\">",
            "<title>\(Markup.html(title))</title>",
            "<style>\(Self.style)</style>",
            "</head>",
            "<body>",
            "<main>",
            "<h1>\(Markup.html(title))</h1>",
        ]
        if !contents.isEmpty { page += ["<nav><ul>"] + contents + ["</ul></nav>"] }
        page += body
        page += ["</main>", "</body>", "</html>"]
        return page.joined(separator: "\n") + "\n"
    }

    /// A fragment id from a heading: lowercase letters and digits, words joined by '-'.
    static func anchor(_ heading: String) -> String {
        let words = heading.lowercased().split { !($0.isLetter || $0.isNumber) || !$0.isASCII }
        return words.isEmpty ? "section" : words.joined(separator: "-")
    }

    static let style = """
    body{margin:0;background:#fff;color:#1f2937;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}\
    main{max-width:1100px;margin:0 auto;padding:24px 32px 48px}\
    h1{font-size:26px;margin:0 0 8px}h2{font-size:20px;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}\
    nav ul{display:flex;flex-wrap:wrap;gap:8px 20px;list-style:none;padding:0;margin:8px 0 0}nav a{color:#1d4ed8}\
    code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:13px}\
    code{background:#f3f4f6;border-radius:4px;padding:1px 4px;overflow-wrap:anywhere}\
    pre{background:#f8fafc;border:1px solid #e5e7eb;border-radius:6px;padding:12px 16px;overflow-x:auto}\
    table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #d1d5db;padding:6px 10px;text-align:left;vertical-align:top}\
    th{background:#f3f4f6}tr:nth-child(even) td{background:#fafafa}\
    figure{margin:16px 0}figcaption{font-size:13px;color:#4b5563}svg text{font-family:system-ui,"DejaVu Sans",sans-serif}
    """
}

extension ReportBlock {
    func html() -> String {
        switch self {
        case .heading(let text):
            return "<h2>\(Markup.html(text))</h2>"
        case .paragraph(let text):
            return "<p>\(text.html())</p>"
        case .preformatted(let lines):
            return "<pre>" + lines.map(Markup.html).joined(separator: "\n") + "</pre>"
        case .table(let header, let rows):
            var lines = ["<table>", "<thead><tr>" + header.map { "<th>\(Markup.html($0))</th>" }.joined() + "</tr></thead>", "<tbody>"]
            for row in rows {
                lines.append("<tr>" + row.map { "<td>\($0.html())</td>" }.joined() + "</tr>")
            }
            lines += ["</tbody>", "</table>"]
            return lines.joined(separator: "\n")
        case .list(let ordered, let items):
            let tag = ordered ? "ol" : "ul"
            return "<\(tag)>" + items.map { "<li>\($0.html())</li>" }.joined() + "</\(tag)>"
        case .flow(let flow):
            return "<figure>\(flow.svg())<figcaption>\(Markup.html(flow.caption))</figcaption></figure>"
        }
    }
}

extension RichText {
    func html() -> String {
        spans.map { span in
            switch span {
            case .text(let text): Markup.html(text)
            case .code(let text): "<code>\(Markup.html(text))</code>"
            case .strong(let text): "<strong>\(Markup.html(text))</strong>"
            case .lineBreak: "<br>"
            }
        }.joined()
    }
}

extension StageFlow {
    /// The flow in words, for the figure caption and the SVG's accessible title.
    var caption: String {
        edges.map { edge in
            let label = edge.label.map { " (\($0))" } ?? ""
            return "\(name(edge.from)) → \(name(edge.to))\(label)"
        }.joined(separator: ", ")
    }

    private func name(_ id: String) -> String {
        nodes.first { $0.id == id }?.label ?? id
    }

    /// The nodes left to right in their order, each edge an arrow with its label above it. The
    /// layout is a row because a promotion order is a chain; widths follow the label lengths.
    func svg() -> String {
        let height = 96.0, boxTop = 34.0, boxHeight = 40.0
        let charWidth = 8.4, labelCharWidth = 7.4
        var x = 12.0
        var boxes: [String: (x: Double, width: Double)] = [:]
        for (index, node) in nodes.enumerated() {
            if index > 0 {
                let labels = edges.filter { $0.to == node.id }.compactMap(\.label)
                let longest = Double(labels.map(\.count).max() ?? 0)
                x += max(72, longest * labelCharWidth + 36)
            }
            let width = max(76, Double(node.label.count) * charWidth + 32)
            boxes[node.id] = (x, width)
            x += width
        }
        let width = x + 12
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(Markup.html(caption))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\">",
            "<title>\(Markup.html(caption))</title>",
            "<defs><marker id=\"tollgate-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#475569\"/></marker></defs>",
        ]
        let middle = boxTop + boxHeight / 2
        for edge in edges {
            guard let from = boxes[edge.from], let to = boxes[edge.to] else { continue }
            let start = from.x + from.width, end = to.x - 2
            parts.append("<line x1=\"\(Self.number(start))\" y1=\"\(Self.number(middle))\" x2=\"\(Self.number(end))\" y2=\"\(Self.number(middle))\" stroke=\"#475569\" stroke-width=\"2\" marker-end=\"url(#tollgate-arrow)\"/>")
            if let label = edge.label {
                parts.append("<text x=\"\(Self.number((start + end) / 2))\" y=\"\(Self.number(middle - 10))\" text-anchor=\"middle\" font-size=\"13\" fill=\"#334155\">\(Markup.html(label))</text>")
            }
        }
        for node in nodes {
            guard let box = boxes[node.id] else { continue }
            let fill = node.isStart ? "#ede9fe" : "#dbeafe", stroke = node.isStart ? "#6d28d9" : "#1d4ed8"
            let radius = node.isStart ? boxHeight / 2 : 6
            parts.append("<rect x=\"\(Self.number(box.x))\" y=\"\(Self.number(boxTop))\" width=\"\(Self.number(box.width))\" height=\"\(Self.number(boxHeight))\" rx=\"\(Self.number(radius))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"/>")
            parts.append("<text x=\"\(Self.number(box.x + box.width / 2))\" y=\"\(Self.number(middle + 5))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#111827\">\(Markup.html(node.label))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// Coordinates to one decimal place, without a trailing ".0".
    private static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

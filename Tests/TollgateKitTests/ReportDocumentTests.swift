import Foundation
import Testing
@testable import TollgateKit

/// One report document, two renderings that say the same thing safely.
@Suite struct ReportDocumentTests {
    let flow = StageFlow(
        nodes: [.init(id: "release", label: "release", isStart: true), .init(id: "dev", label: "dev"), .init(id: "production", label: "production")],
        edges: [.init(from: "release", to: "dev"), .init(from: "dev", to: "production", label: "approval")]
    )

    var document: ReportDocument {
        ReportDocument(title: "Pipeline <of> x", blocks: [
            .heading("(a) Layout & more"),
            .paragraph("run \(code: "tollgate rollback --env prod") as \(strong: "ops")"),
            .preformatted(["stacks/app/", "  main.tf"]),
            .table(header: ["env", "value"], rows: [["prod", .lines(["a|b", "\(code: "<script>alert(1)</script>")"])]]),
            .list(ordered: true, items: ["first", "second \(code: "x`y")"]),
            .heading("(b) Stages"),
            .flow(flow),
        ])
    }

    @Test func markdownEscapesTableCellsAndDrawsTheFlowInMermaid() {
        let markdown = document.markdown()
        #expect(markdown.hasPrefix("# Pipeline <of> x\n\n## (a) Layout & more\n\nrun `tollgate rollback --env prod` as **ops**\n\n```\nstacks/app/\n  main.tf\n```\n"))
        #expect(markdown.contains("| env | value |\n|---|---|\n| prod | a\\|b<br>`<script>alert(1)</script>` |\n"))
        #expect(markdown.contains("1. first\n2. second `` x`y ``\n"))
        #expect(markdown.contains("```mermaid\nflowchart LR\n  release([release]) --> dev\n  dev -->|approval| production\n```\n"))
    }

    @Test func htmlEscapesEveryValueAndLinksEachSection() {
        let html = document.html()
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.contains("<title>Pipeline &lt;of&gt; x</title>"))
        #expect(html.contains("<nav><ul>\n<li><a href=\"#a-layout-more\">(a) Layout &amp; more</a></li>\n<li><a href=\"#b-stages\">(b) Stages</a></li>\n</ul></nav>"))
        #expect(html.contains("<section id=\"a-layout-more\">\n<h2>(a) Layout &amp; more</h2>"))
        #expect(html.contains("<p>run <code>tollgate rollback --env prod</code> as <strong>ops</strong></p>"))
        #expect(html.contains("<pre>stacks/app/\n  main.tf</pre>"))
        #expect(html.contains("<tr><td>prod</td><td>a|b<br><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></td></tr>"))
        #expect(html.contains("<ol><li>first</li><li>second <code>x`y</code></li></ol>"))
        #expect(!html.contains("<script"))
        #expect(html.components(separatedBy: "<section").count - 1 == 2)
        #expect(html.components(separatedBy: "</section>").count - 1 == 2)
    }

    @Test func theFlowIsAnInlineSVGWithABoxPerNodeAndAnArrowPerEdge() throws {
        let svg = flow.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""))
        #expect(svg.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(svg.components(separatedBy: "<line ").count - 1 == 2)
        #expect(svg.contains(">approval</text>"))
        #expect(flow.caption == "release → dev, dev → production (approval)")
        // A longer label gets a wider box, so no name spills out of its box.
        let rects: [String] = svg.components(separatedBy: "<rect ").dropFirst().map { String($0.prefix { $0 != ">" }) }
        let widths = rects.compactMap { Self.number("width", in: $0) }
        let xs = rects.compactMap { Self.number("x", in: $0) }
        try #require(widths.count == 3 && xs.count == 3)
        #expect(widths[2] > widths[1])
        // Boxes do not overlap and stay inside the drawing.
        #expect(xs[0] + widths[0] < xs[1] && xs[1] + widths[1] < xs[2])
        let total = try #require(Self.number("width", in: svg))
        #expect(xs[2] + widths[2] <= total)
    }

    /// The first `name="number"` attribute in `text`.
    static func number(_ name: String, in text: String) -> Double? {
        guard let range = text.hasPrefix("\(name)=\"") ? text.range(of: "\(name)=\"") : text.range(of: " \(name)=\"") else { return nil }
        return Double(text[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func anchorsAreStableWordsOfTheHeading() {
        #expect(ReportDocument.anchor("(c) Plan binding") == "c-plan-binding")
        #expect(ReportDocument.anchor("()") == "section")
    }
}

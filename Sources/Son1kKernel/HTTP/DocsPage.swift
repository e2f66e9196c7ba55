import Son1kPluginKit

/// A self-contained HTML rendering of the OpenAPI document for people (no external assets).
enum DocsPage {
    static func render(_ spec: JSONValue) -> String {
        var sections: [String: [String]] = [:]
        for (path, item) in (spec["paths"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (method, op) in (item.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                let tag = op["tags"][0].string ?? "other"
                var html = "<div class=op><h3><span class=\"m \(method)\">\(method.uppercased())</span> <code>\(escape(path))</code> <span class=auth>\(escape(op["x-auth"].string ?? ""))</span></h3>"
                html += "<p>\(escape(op["summary"].string ?? ""))</p>"
                if let d = op["description"].string { html += "<p class=d>\(escape(d))</p>" }
                if !op["requestBody"].isNull {
                    html += "<details><summary>Request body</summary><pre>\(escape(pretty(op["requestBody"]["content"]["application/json"]["schema"])))</pre></details>"
                }
                html += "</div>"
                sections[tag, default: []].append(html)
            }
        }
        let descriptions = Dictionary((spec["tags"].array ?? []).map { ($0["name"].string ?? "", $0["description"].string ?? "") }, uniquingKeysWith: { a, _ in a })
        var body = ""
        for (tag, ops) in sections.sorted(by: { ($0.key == "kernel" ? "" : $0.key) < ($1.key == "kernel" ? "" : $1.key) }) {
            body += "<section><h2>\(escape(tag))</h2><p class=d>\(escape(descriptions[tag] ?? ""))</p>\(ops.joined())</section>"
        }
        return """
            <!doctype html><html lang=en><head><meta charset=utf-8><title>son1k API</title>
            <style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
            h2{border-bottom:2px solid #333;margin-top:2em}.op{border:1px solid #ddd;border-radius:6px;padding:.4em 1em;margin:.8em 0}
            h3{margin:.3em 0;font-size:1em}.m{display:inline-block;min-width:4.5em;font-weight:bold}.get{color:#0a7}.post{color:#06c}
            .put,.patch{color:#b70}.delete{color:#c22}.auth{float:right;font-weight:normal;color:#666}.d{color:#555}
            pre{background:#f6f6f6;padding:.6em;overflow:auto}</style></head><body>
            <h1>son1k API</h1><p>Every error is <code>application/problem+json</code> with <code>type, title, status, detail, code</code>.
            Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
            \(body)</body></html>
            """
    }

    static func pretty(_ value: JSONValue) -> String { value.jsonString }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

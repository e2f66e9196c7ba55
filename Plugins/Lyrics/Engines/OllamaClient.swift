import Foundation
import Son1kPluginKit

/// Ollama's chat API (`POST /api/chat`, https://github.com/ollama/ollama/blob/main/docs/api.md):
/// structured output through `format` (a JSON schema), `options.temperature/seed/num_predict`,
/// and `stream` — NDJSON lines of `{"message": {"content": piece}, "done": false}` ending
/// with `{"done": true, "prompt_eval_count", "eval_count"}`, or an `{"error": …}` line.
struct OllamaClient {
    let ctx: Context<LyricsPlugin.Config>

    struct Answer {
        var content: String
        var model: String
        var promptTokens: Int?
        var completionTokens: Int?
    }

    var isConfigured: Bool { !ctx.config.ollamaUrl.isEmpty }

    /// One chat exchange. With `stream`, the answer streams and each piece of text goes to
    /// `onContent` as it arrives; without, it comes in one response.
    func chat(model: String, system: String, prompt: String, format: JSONValue, seed: UInt64?,
              stream: Bool = false, onContent: (String) throws -> Void = { _ in }) throws -> Answer {
        var options: JSONValue = ["temperature": .number(ctx.config.temperature), "num_predict": .number(Double(ctx.config.maxTokens))]
        if let seed { options["seed"] = .number(Double(seed % (1 << 31))) }
        let body: JSONValue = [
            "model": .string(model), "stream": .bool(stream), "format": format, "options": options,
            "messages": [["role": "system", "content": .string(system)], ["role": "user", "content": .string(prompt)]],
        ]
        var base = ctx.config.ollamaUrl
        while base.hasSuffix("/") { base.removeLast() }
        let request = HTTPClient.Request(method: "POST", url: base + "/api/chat", headers: ["Content-Type": "application/json"],
                                         body: body.bytes, timeoutSeconds: Double(ctx.config.timeoutS))
        do {
            return stream ? try streamed(request, model: model, onContent: onContent) : try single(request, model: model)
        } catch let error as PluginError {
            throw translate(error)
        }
    }

    private func single(_ request: HTTPClient.Request, model: String) throws -> Answer {
        let response = try ctx.http.fetch(request)
        let json = (try? response.json()) ?? .null
        guard response.status == 200 else { throw failure(status: response.status, message: json["error"].string ?? response.text, model: model) }
        if let message = json["error"].string { throw Self.streamError(message) }
        guard let content = json["message"]["content"].string else {
            throw PluginError(status: 502, code: "ollama_bad_output", detail: "Ollama's answer has no message content.")
        }
        return Answer(content: content, model: json["model"].string ?? model, promptTokens: json["prompt_eval_count"].int,
                      completionTokens: json["eval_count"].int)
    }

    private func streamed(_ request: HTTPClient.Request, model: String, onContent: (String) throws -> Void) throws -> Answer {
        var pending: [UInt8] = []
        var answer = Answer(content: "", model: model)
        var failed: (any Error)?
        var errorBody: [UInt8] = []
        func line(_ bytes: ArraySlice<UInt8>) throws {
            guard !bytes.allSatisfy({ $0 == 32 || $0 == 13 }) else { return }
            guard let json = try? JSONValue.parse(Array(bytes)) else {
                throw PluginError(status: 502, code: "ollama_bad_output", detail: "Ollama sent a line that is not JSON.")
            }
            if let message = json["error"].string { throw Self.streamError(message) }
            if let piece = json["message"]["content"].string, !piece.isEmpty {
                answer.content += piece
                try onContent(piece)
            }
            if json["done"] == true {
                answer.model = json["model"].string ?? model
                answer.promptTokens = json["prompt_eval_count"].int
                answer.completionTokens = json["eval_count"].int
            }
        }
        let response = try ctx.http.stream(request) { code, _, bytes in
            guard code == 200 else {
                errorBody += bytes
                return true
            }
            pending += bytes
            do {
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    try line(pending[..<newline])
                    pending.removeSubrange(...newline)
                }
            } catch {
                failed = error
                return false
            }
            return true
        }
        if let failed { throw failed }
        if response.status != 200 {
            let json = (try? JSONValue.parse(errorBody)) ?? .null
            throw failure(status: response.status, message: json["error"].string ?? String(decoding: errorBody, as: UTF8.self), model: model)
        }
        if !pending.isEmpty { try line(pending[...]) }
        return answer
    }

    private func failure(status: Int, message: String, model: String) -> PluginError {
        if status == 404 {
            return PluginError(status: 502, code: "ollama_model_missing",
                               detail: "Ollama has no model '\(model)': run `ollama pull \(model)` on the Ollama host, or configure another model.")
        }
        return PluginError(status: 502, code: "ollama_error", detail: "Ollama answered HTTP \(status): \(message.prefix(300))")
    }

    static func streamError(_ message: String) -> PluginError {
        PluginError(status: 502, code: "ollama_stream_error", detail: "Ollama stopped with an error: \(message.prefix(300))")
    }

    /// The kernel's egress errors, said in Ollama's terms.
    private func translate(_ error: PluginError) -> PluginError {
        switch error.code {
        case "upstream_timeout":
            return PluginError(status: 504, code: "ollama_timeout", detail: "Ollama did not answer within \(ctx.config.timeoutS) s (the lyrics plugin's timeout_s).")
        case "upstream_unreachable", "upstream_interrupted":
            return PluginError(status: 502, code: "ollama_unreachable", detail: "Ollama at \(ctx.config.ollamaUrl) is unreachable: \(error.detail)")
        default:
            return error
        }
    }
}

import Foundation
import Son1kPluginKit
import Testing

extension PluginSpec {
    static func lyrics(_ config: JSONValue = [:]) -> PluginSpec {
        PluginSpec(name: "lyrics", library: "Son1kLyrics", config: config)
    }
}

/// The lyrics plugin: Ollama's wire format against a local stand-in (checked with Ollama's
/// own Python client), the offline engine, analysis, and the lyric studio's drafts.
@Suite(.serialized) struct LyricsTests {
    static func ollamaConfig(_ ollama: PythonServer, model: String = "good", engines: [String] = ["ollama"], timeout: Int = 10) -> JSONValue {
        ["engines": .array(engines.map { .string($0) }), "ollama_url": .string(ollama.base), "egress_hosts": .array([.string(ollama.base)]),
         "models": ["generate": .string(model), "analyze": "good", "translate": "good"], "timeout_s": .number(Double(timeout))]
    }

    /// An NDJSON response read line by line as it arrives (curl -N), each with its arrival time.
    static func streamLines(_ k: TestKernel, token: String, body: JSONValue) throws -> [(json: JSONValue, at: ContinuousClock.Instant)] {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sN", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                          "-H", "Accept: application/x-ndjson", "--data-binary", body.jsonString, k.baseURL + "/api/lyrics/generate"]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        var lines: [(JSONValue, ContinuousClock.Instant)] = []
        var pending: [UInt8] = []
        while true {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            pending += data
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append((try JSONValue.parse(Array(pending[..<newline])), .now))
                pending.removeSubrange(...newline)
            }
        }
        curl.waitUntilExit()
        return lines
    }

    static let structure: JSONValue = ["verse", "chorus", "bridge"]

    @Test func ollamaStructuredOutputStreamingAndItsErrors() async throws {
        let ollama = try await PythonServer.start("ollama_fake", arguments: ["1.0"])
        defer { ollama.stop() }
        let k = try await TestKernel.start([.lyrics(Self.ollamaConfig(ollama))])
        defer { k.stop() }
        let me = try await k.register("lyricist")

        // Structured output, parsed into sections.
        let r = try await k.request("POST", "/api/lyrics/generate", token: me.token,
                                    json: ["prompt": "a song about the sea", "language": "en", "structure": Self.structure, "seed": 7])
        #expect(r.status == 200 && r.json["engine"] == "ollama" && r.json["model"] == "good" && r.json["title"] == "Fake Song", "\(r)")
        #expect(r.json["sections"].array?.map { $0["type"].string ?? "" } == ["verse", "chorus", "bridge"])
        #expect(r.json["sections"][0]["lines"][0] == "verse 0 line 1, \"quoted\" {braces}")
        #expect(r.json["tokens"]["prompt"] == 42 && r.json["tokens"]["completion"] == 128 && r.json["duration_ms"].int != nil)
        let sent = try await ollama.requests().last { $0["path"] == "/api/chat" }
        #expect(sent?["body"]["stream"] == false && sent?["body"]["model"] == "good" && sent?["body"]["options"]["seed"] == 7)
        #expect(sent?["body"]["options"]["temperature"] == 0.8 && sent?["body"]["options"]["num_predict"] == 1024)
        #expect(sent?["body"]["format"]["required"] == ["title", "sections"] && sent?["body"]["messages"].array?.count == 2)

        // Streaming: each section leaves as soon as the model finished it (the stand-in pauses
        // 1 s after the first), then the whole answer.
        let lines = try Self.streamLines(k, token: me.token, body: ["prompt": "a song about the sea", "language": "en", "structure": Self.structure])
        #expect(lines.map { $0.json["event"].string ?? "?" } == ["section", "section", "section", "done"], "\(lines.map(\.json))")
        if lines.count == 4 {
            #expect(lines[0].json["section"]["type"] == "verse" && lines[0].json["index"] == 0)
            #expect(lines[3].at - lines[0].at >= .milliseconds(800), "the first section arrived before the model finished")
            #expect(lines[3].json["engine"] == "ollama" && lines[3].json["sections"].array?.count == 3)
        }
        #expect(try await ollama.requests().last?["body"]["stream"] == true)

        // Translation and analysis go through Ollama too.
        let translated = try await k.request("POST", "/api/lyrics/translate", token: me.token,
                                             json: ["to": "fr", "sections": [["type": "verse", "lines": ["hello", "world"]]]])
        #expect(translated.json["sections"][0]["lines"] == ["(fr) hello", "(fr) world"] && translated.json["language"] == "fr", "\(translated)")
        let analysis = try await k.request("POST", "/api/lyrics/analyze", token: me.token, json: ["prompt": "fiesta en la playa"]).json
        #expect(analysis["engine"] == "ollama" && analysis["genre"] == "latin" && analysis["tempo_bpm"] == 101)
        #expect(try await k.request("POST", "/api/lyrics/generate", json: ["prompt": "x"]).status == 401)
    }

    @Test func ollamaFailuresAreClearAndFallBackOnlyWhenConfigured() async throws {
        let ollama = try await PythonServer.start("ollama_fake", arguments: ["0"])
        defer { ollama.stop() }
        let body: JSONValue = ["prompt": "rain", "language": "en", "structure": Self.structure]
        for (model, engines, check) in [
            ("broken", ["ollama"], "stream"), ("broken-late", ["ollama"], "late"), ("nonexistent", ["ollama"], "missing"),
            ("slow", ["ollama"], "timeout"), ("nonexistent", ["ollama", "offline"], "fallback"),
        ] as [(String, [String], String)] {
            let k = try await TestKernel.start([.lyrics(Self.ollamaConfig(ollama, model: model, engines: engines, timeout: check == "timeout" ? 1 : 10))])
            defer { k.stop() }
            let me = try await k.register("writer")
            switch check {
            case "stream":
                // An error line before any section is complete: an ordinary 502 with Ollama's message.
                let r = try await k.request("POST", "/api/lyrics/generate?stream=true", token: me.token, json: body)
                #expect(r.status == 502 && r.json["code"] == "ollama_stream_error" && r.json["detail"].string?.contains("llama runner process has terminated") == true, "\(r)")
            case "late":
                let lines = try Self.streamLines(k, token: me.token, body: body)
                #expect(lines.first?.json["event"] == "section" && lines.last?.json["event"] == "error", "\(lines.map(\.json))")
                #expect(lines.last?.json["status"] == 502 && lines.last?.json["detail"].string?.contains("llama runner process has terminated") == true)
            case "missing":
                let r = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body)
                #expect(r.status == 502 && r.json["code"] == "ollama_model_missing" && r.json["detail"].string?.contains("ollama pull nonexistent") == true, "\(r)")
            case "timeout":
                let started = ContinuousClock.now
                let r = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body)
                #expect(r.status == 504 && r.json["code"] == "ollama_timeout", "\(r)")
                // Under the whole suite's load the answer takes a while past the 1 s; the server
                // itself would take 5.
                #expect(ContinuousClock.now - started < .seconds(4.5), "the configured 1 s, not the server's 5 s")
            default:
                let r = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body)
                #expect(r.status == 200 && r.json["engine"] == "offline" && r.json["fallback"]["code"] == "ollama_model_missing", "\(r)")
            }
        }
    }

    @Test func theStandInSpeaksWhatOllamasOwnClientExpects() async throws {
        let ollama = try await PythonServer.start("ollama_fake", arguments: ["0"])
        defer { ollama.stop() }
        let script = """
            import json, sys, ollama
            client = ollama.Client(host=sys.argv[1])
            messages = [{"role": "system", "content": "lyrics"}, {"role": "user", "content": "Sections in this order: verse, chorus."}]
            schema = {"type": "object", "properties": {"title": {"type": "string"}, "sections": {"type": "array"}}}
            whole = client.chat(model="good", messages=messages, format=schema, options={"seed": 3, "temperature": 0.5})
            pieces = "".join(part.message.content for part in client.chat(model="good", messages=messages, format=schema, stream=True))
            try:
                client.chat(model="absent", messages=messages)
                missing = None
            except ollama.ResponseError as error:
                missing = [error.status_code, error.error]
            print(json.dumps({"whole": json.loads(whole.message.content), "streamed": json.loads(pieces), "eval_count": whole.eval_count, "missing": missing}))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PythonServer.python)
        p.arguments = ["-c", script, ollama.base]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let json = try JSONValue.parse(Array(data))
        #expect(p.terminationStatus == 0)
        #expect(json["whole"]["sections"].array?.map { $0["type"] } == ["verse", "chorus"] && json["whole"] == json["streamed"], "\(json)")
        #expect(json["eval_count"] == 128 && json["missing"] == [404, "model \"absent\" not found, try pulling it first"])
    }

    /// The last letters of a line's last word, where its rhyme sits.
    static func rhyme(_ line: String) -> String {
        String(line.lowercased().split { !$0.isLetter }.last?.suffix(2) ?? "")
    }

    /// Vowel groups: an estimate of syllables independent of the engine's own count.
    static func vowelGroups(_ line: String) -> Int {
        var count = 0
        var previous = false
        for c in line.lowercased() {
            let vowel = "aeiouáéíóúü".contains(c)
            if vowel && !previous { count += 1 }
            previous = vowel
        }
        return count
    }

    @Test func theOfflineEngineFollowsStructureRhymeAndSeed() async throws {
        let k = try await TestKernel.start([.lyrics(["engines": ["offline"]])])
        defer { k.stop() }
        let me = try await k.register("offline-writer")
        let structure: JSONValue = ["verse", "chorus", "verse", "chorus", "bridge"]
        for (language, prompt) in [("es", "una canción sobre el verano y la playa"), ("en", "a song about summer nights in the city")] {
            for scheme in [nil, "AABB", "ABCABC"] as [String?] {
                var body: JSONValue = ["prompt": .string(prompt), "language": .string(language), "structure": structure, "seed": 11,
                                       "syllables_per_line": 10]
                if let scheme { body["rhyme_scheme"] = .string(scheme) }
                let r = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body)
                #expect(r.status == 200 && r.json["engine"] == "offline" && r.json["language"] == .string(language), "\(r)")
                let sections = r.json["sections"].array ?? []
                #expect(sections.map { $0["type"] } == structure.array)
                #expect(sections[1] == sections[3], "a chorus repeats")
                for section in sections {
                    let lines = section["lines"].array?.compactMap(\.string) ?? []
                    let letters = Array(section["rhyme_scheme"].string ?? "")
                    if let scheme { #expect(letters == Array(scheme)) }
                    #expect(lines.count == letters.count && !lines.isEmpty)
                    for (i, a) in letters.enumerated() {
                        for (j, b) in letters.enumerated() where j > i && a == b {
                            #expect(Self.rhyme(lines[i]) == Self.rhyme(lines[j]), "\(language) '\(lines[i])' / '\(lines[j])' share \(a)")
                        }
                    }
                    for line in lines { #expect(abs(Self.vowelGroups(line) - 10) <= 4, "\(language): '\(line)' is near 10 syllables") }
                }
                // Same request and seed: the same lyrics; another seed: others.
                let again = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body)
                #expect(again.json["sections"] == r.json["sections"] && again.json["title"] == r.json["title"])
                body["seed"] = 12
                #expect(try await k.request("POST", "/api/lyrics/generate", token: me.token, json: body).json["sections"] != r.json["sections"])
            }
        }
        // A drawn seed is reported, and replays the lyrics.
        let drawn = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: ["prompt": "night", "language": "en"]).json
        let replay = try await k.request("POST", "/api/lyrics/generate", token: me.token,
                                         json: ["prompt": "night", "language": "en", "seed": drawn["seed"]]).json
        #expect(drawn["seed"].int != nil && replay["sections"] == drawn["sections"])
        let french = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: ["prompt": "x", "language": "fr"])
        #expect(french.status == 422 && french.json["code"] == "language_not_offline")
        let translate = try await k.request("POST", "/api/lyrics/translate", token: me.token, json: ["to": "en", "sections": [["type": "verse", "lines": ["hola"]]]])
        #expect(translate.status == 501 && translate.json["code"] == "translation_needs_llm")
        let bad = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: ["prompt": "x", "structure": ["solo"]])
        #expect(bad.status == 422 && bad.json["detail"].string?.contains("structure") == true)
        // Streaming works with the offline engine too.
        let lines = try Self.streamLines(k, token: me.token, body: ["prompt": "night", "language": "en", "structure": ["verse", "chorus"]])
        #expect(lines.map { $0.json["event"].string ?? "?" } == ["section", "section", "done"])
    }

    @Test func aSubscriberCanVetoLyricsBeforeTheyAreWritten() async throws {
        let k = try await TestKernel.start([.hello, .faulty(), .lyrics(["engines": ["offline"]])])
        defer { k.stop() }
        let me = try await k.register("metered")
        let refused = try await k.request("POST", "/api/lyrics/generate", token: me.token, json: ["prompt": "a song, over my quota", "language": "en"])
        #expect(refused.status == 402 && refused.json["code"] == "lyrics_not_in_tier", "\(refused)")
        #expect(try await k.request("POST", "/api/lyrics/generate", token: me.token, json: ["prompt": "a song", "language": "en"]).status == 200)
    }

    @Test func analysisTellsSpanishFromEnglish() async throws {
        let k = try await TestKernel.start([.lyrics(["engines": ["offline"]])])
        defer { k.stop() }
        let me = try await k.register("analyst")
        let table: [(String, String)] = [
            ("es", "una canción triste sobre el amor perdido"), ("es", "reggaeton para bailar toda la noche"),
            ("es", "quiero una balada romántica con piano"), ("es", "rock con guitarras fuertes y mucha energía"),
            ("es", "canción de cuna para dormir a mi hijo"), ("es", "algo alegre para el verano en la playa"),
            ("es", "un corrido sobre la vida en el pueblo"), ("es", "música electrónica para el gimnasio"),
            ("es", "la lluvia cae sobre la ciudad"), ("es", "himno épico de batalla y victoria"),
            ("es", "una cumbia para la fiesta del sábado"), ("es", "recuerdos de mi abuela en la cocina"),
            ("es", "el mar y las estrellas de noche"), ("es", "bachata de desamor con lágrimas"),
            ("es", "jazz suave para un café tranquilo"), ("es", "canción de protesta por la libertad"),
            ("es", "¿dónde estás cuando te necesito?"), ("es", "viaje en carretera con amigos"),
            ("es", "ritmo latino con trompetas y tambores"), ("es", "corazón roto en la madrugada"),
            ("en", "a sad song about lost love"), ("en", "reggaeton to dance all night long"),
            ("en", "I want a romantic ballad with piano"), ("en", "rock with loud guitars and lots of energy"),
            ("en", "a lullaby to help my son sleep"), ("en", "something happy for summer at the beach"),
            ("en", "a country song about life in a small town"), ("en", "electronic music for the gym"),
            ("en", "the rain is falling over the city"), ("en", "epic battle anthem of victory"),
            ("en", "a party track for saturday night"), ("en", "memories of my grandmother in the kitchen"),
            ("en", "the sea and the stars at night"), ("en", "heartbreak ballad with tears"),
            ("en", "smooth jazz for a quiet coffee shop"), ("en", "protest song for freedom"),
            ("en", "where are you when I need you?"), ("en", "road trip with friends"),
            ("en", "latin rhythm with trumpets and drums"), ("en", "broken heart in the early morning"),
        ]
        var right = 0
        for (language, prompt) in table {
            let r = try await k.request("POST", "/api/lyrics/analyze", token: me.token, json: ["prompt": .string(prompt)])
            if r.json["language"] == .string(language) { right += 1 } else { print("analysis: '\(prompt)' read as \(r.json["language"])") }
        }
        #expect(right * 100 >= table.count * 95, "\(right) of \(table.count) right")
        let sample = try await k.request("POST", "/api/lyrics/analyze", token: me.token, json: ["prompt": "reggaeton triste para llorar, 92 bpm"]).json
        #expect(sample["genre"] == "latin" && sample["mood"] == "sad" && sample["tempo_bpm"] == 92 && sample["engine"] == "offline")
        #expect(sample["keywords"].array?.contains("reggaeton") == true && (0...1).contains(sample["energy"].double ?? -1))
    }

    @Test func draftsArePrivateVersionedAndReachTheGeneration() async throws {
        let k = try await TestKernel.start([.generation(["builtin_workers": 0]), .lyrics(["engines": ["offline"]])])
        defer { k.stop() }
        let me = try await k.register("songwriter")
        let other = try await k.register("snoop")
        let created = try await k.request("POST", "/api/lyrics/drafts", token: me.token,
                                          json: ["title": "First", "sections": [["type": "verse", "lines": ["one", "two"]]]])
        #expect(created.status == 201 && created.json["version"] == 1, "\(created)")
        let id = created.json["id"].string ?? "?"
        for title in ["Second", "Third"] {
            #expect(try await k.request("PATCH", "/api/lyrics/drafts/\(id)", token: me.token, json: ["title": .string(title)]).status == 200)
        }
        let changed = try await k.request("PATCH", "/api/lyrics/drafts/\(id)", token: me.token,
                                          json: ["sections": [["type": "chorus", "lines": ["la la", "sing along"]]]])
        #expect(changed.json["version"] == 4 && changed.json["title"] == "Third")
        let versions = try await k.request("GET", "/api/lyrics/drafts/\(id)/versions", token: me.token).json["data"].array ?? []
        #expect(versions.map { $0["version"] } == [4, 3, 2, 1] && versions.map { $0["title"] } == ["Third", "Third", "Second", "First"])
        #expect(versions[3]["sections"][0]["lines"] == ["one", "two"], "old versions are kept as they were")

        // Another user finds nothing: not the draft, its versions, nor a way to change or delete it.
        for (method, path, body) in [("GET", "/api/lyrics/drafts/\(id)", nil), ("GET", "/api/lyrics/drafts/\(id)/versions", nil),
                                     ("PATCH", "/api/lyrics/drafts/\(id)", ["title": "mine now"]), ("DELETE", "/api/lyrics/drafts/\(id)", nil)]
            as [(String, String, JSONValue?)] {
            let r = try await k.request(method, path, token: other.token, json: body)
            #expect(r.status == 404 && r.json["code"] == "draft_not_found", "\(method) \(path): \(r)")
        }
        #expect(try await k.request("GET", "/api/lyrics/drafts", token: other.token).json["data"] == [])
        #expect(try await k.request("GET", "/api/lyrics/drafts", token: me.token).json["data"].array?.count == 1)

        // Attached to a generation, the draft's text reaches the engine's request.
        let job = try await k.generate(me.token, ["prompt": "a chant", "lyrics_draft_id": .string(id), "genre": "pop"])
        let jobID = job["id"].string ?? ""
        let shown = try await k.request("GET", "/api/generations/\(jobID)", token: me.token).json
        #expect(shown["lyrics"] == "[Chorus]\nla la\nsing along" && shown["instrumental"] == false, "\(shown)")
        let stored = try await k.values("SELECT request FROM generation_jobs WHERE id = ?", [.text(jobID)]).first?.string
        #expect(try JSONValue.parse(Array((stored ?? "{}").utf8))["lyrics"] == "[Chorus]\nla la\nsing along", "the job's stored request")
        let stolen = try await k.request("POST", "/api/generations", token: other.token, json: ["prompt": "x", "lyrics_draft_id": .string(id)])
        #expect(stolen.status == 422 && stolen.json["detail"].string?.contains("lyrics_draft_id") == true)
        // A prompt alone gets genre, mood and tempo from the analysis.
        let analysed = try await k.generate(me.token, ["prompt": "reggaeton triste para llorar"])
        #expect(analysed["genre"] == "latin" && analysed["mood"] == "sad" && analysed["tempo_bpm"].int != nil, "\(analysed)")

        #expect(try await k.request("DELETE", "/api/lyrics/drafts/\(id)", token: me.token).status == 204)
        let rows = try await k.integer("SELECT COUNT(*) AS n FROM lyrics_draft_versions")
        #expect(rows == 0)
    }
}

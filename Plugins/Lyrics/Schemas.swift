import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let section: JSONValue = [
        "type": "object", "required": ["type", "lines"],
        "properties": ["type": ["type": "string"], "lines": ["type": "array", "items": ["type": "string"]], "rhyme_scheme": ["type": "string"]],
    ]

    static let generate: JSONValue = [
        "type": "object", "required": ["prompt"],
        "properties": [
            "prompt": ["type": "string", "maxLength": 2000], "language": ["type": "string", "description": "ISO 639-1; default: the prompt's"],
            "genre": ["type": "string"], "mood": ["type": "string"],
            "structure": ["type": "array", "items": ["type": "string", "enum": .array(LyricsRequest.sectionTypes.map { .string($0) })]],
            "rhyme_scheme": ["type": "string", "pattern": "^[A-Z]{2,8}$"], "syllables_per_line": ["type": "integer", "minimum": 4, "maximum": 16],
            "seed": ["type": "integer", "minimum": 0],
        ],
    ]

    static let lyrics: JSONValue = [
        "type": "object",
        "properties": [
            "title": ["type": "string"], "language": ["type": "string"], "sections": ["type": "array", "items": section],
            "engine": ["type": "string", "enum": ["ollama", "offline"]], "model": ["type": "string"],
            "tokens": ["type": "object", "properties": ["prompt": ["type": "integer"], "completion": ["type": "integer"]]],
            "duration_ms": ["type": "integer"], "seed": ["type": "integer"], "fallback": ["type": "object"],
        ],
    ]

    static let prompt: JSONValue = ["type": "object", "required": ["prompt"], "properties": ["prompt": ["type": "string"]]]

    static let analysis: JSONValue = [
        "type": "object",
        "properties": [
            "language": ["type": "string"], "genre": ["type": "string"], "mood": ["type": "string"], "tempo_bpm": ["type": "integer"],
            "keywords": ["type": "array", "items": ["type": "string"]], "energy": ["type": "number"], "engine": ["type": "string"],
        ],
    ]

    static let translate: JSONValue = [
        "type": "object", "required": ["sections", "to"],
        "properties": ["sections": ["type": "array", "items": section], "to": ["type": "string"]],
    ]

    static let draft: JSONValue = [
        "type": "object", "required": ["title", "sections"],
        "properties": ["title": ["type": "string"], "sections": ["type": "array", "items": section], "language": ["type": "string"]],
    ]

    static let draftChange: JSONValue = [
        "type": "object", "properties": ["title": ["type": "string"], "sections": ["type": "array", "items": section]],
    ]

    static let draftView: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "title": ["type": "string"], "language": ["type": ["string", "null"]], "version": ["type": "integer"],
            "sections": ["type": "array", "items": section], "created_at": ["type": "string"], "updated_at": ["type": "string"],
        ],
    ]
}

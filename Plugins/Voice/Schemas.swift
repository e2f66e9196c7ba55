import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let features: JSONValue = [
        "type": ["object", "null"],
        "properties": [
            "duration_s": ["type": "number"], "median_f0_hz": ["type": "number"], "mean_f0_hz": ["type": "number"],
            "f0_range_hz": ["type": "array", "items": ["type": "number"]], "loudness_lufs": ["type": ["number", "null"]],
            "speaking_rate": ["type": "number", "description": "syllables per second"],
        ],
    ]

    static let newProfile: JSONValue = [
        "type": "object", "required": ["name", "consent"],
        "properties": [
            "name": ["type": "string"],
            "consent": ["type": "object", "required": ["statement", "speaker_is_me"],
                        "properties": ["statement": ["type": "string", "minLength": 10], "speaker_is_me": ["type": "boolean", "const": true]]],
        ],
    ]

    static let profile: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "name": ["type": "string"], "status": ["type": "string", "enum": ["awaiting_reference", "ready"]],
            "consent": ["type": "object"], "features": features, "reference": ["type": ["object", "null"]],
            "created_at": ["type": "string"], "updated_at": ["type": "string"],
        ],
    ]

    static let synthesize: JSONValue = [
        "type": "object", "required": ["profile_id"],
        "properties": [
            "profile_id": ["type": "string"], "text": ["type": "string", "maxLength": 2000], "draft_id": ["type": "string"],
            "language": ["type": "string"], "emotion": ["type": "string", "enum": .array(Emotion.allCases.map { .string($0.rawValue) })],
            "intensity": ["type": "number", "minimum": 0, "maximum": 1], "speed": ["type": "number", "minimum": 0.5, "maximum": 2],
            "format": ["type": "string", "enum": ["wav", "flac"]], "engine": ["type": "string", "enum": ["embedded", "remote"]],
        ],
    ]

    static let job: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "status": ["type": "string", "enum": ["queued", "processing", "completed", "failed"]],
            "progress": ["type": "number"], "engine": ["type": "string"], "fidelity": ["type": "string", "enum": ["pitch", "neural"]],
            "audio_url": ["type": ["string", "null"]], "output": ["type": ["object", "null"]], "error": ["type": ["string", "null"]],
        ],
    ]
}

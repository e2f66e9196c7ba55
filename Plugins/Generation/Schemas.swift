import Son1kMusicEngine
import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let createRequest: JSONValue = [
        "type": "object", "required": ["prompt"],
        "properties": [
            "prompt": ["type": "string", "minLength": 1, "maxLength": 1000],
            "genre": ["type": "string", "enum": .array(Genre.allCases.map { .string($0.rawValue) })],
            "mood": ["type": "string", "enum": .array(Mood.allCases.map { .string($0.rawValue) })],
            "tempo_bpm": ["type": "integer", "minimum": 40, "maximum": 240],
            "key": ["type": "string", "examples": ["A minor", "F#m", "Bb major"]],
            "duration_s": ["type": "number", "minimum": 5, "maximum": 240, "default": 30],
            "quality": ["type": "string", "enum": ["standard", "high", "ultra"], "default": "standard"],
            "lyrics": ["type": "string", "maxLength": 10000],
            "lyrics_draft_id": ["type": "string", "description": "One of your lyric-studio drafts (lyrics plugin), used as the lyrics."],
            "instrumental": ["type": "boolean", "description": "Default: true unless lyrics are given."],
            "seed": ["type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991],
        ],
    ]

    static let job: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"],
            "status": ["type": "string", "enum": .array(JobStatus.allCases.map { .string($0.rawValue) })],
            "prompt": ["type": "string"], "genre": ["type": ["string", "null"]], "mood": ["type": ["string", "null"]],
            "tempo_bpm": ["type": ["integer", "null"]], "key": ["type": ["string", "null"]],
            "duration_s": ["type": "number"], "quality": ["type": "string"], "seed": ["type": "integer"],
            "instrumental": ["type": "boolean"], "priority": ["type": "integer"], "engine": ["type": "string"],
            "progress": ["type": "number", "minimum": 0, "maximum": 1], "attempts": ["type": "integer"], "max_attempts": ["type": "integer"],
            "error": ["type": ["string", "null"]], "next_attempt_at": ["type": "string", "format": "date-time"],
            "result": ["type": ["object", "null"], "description": "Engine details: key, bpm, chords, instruments, sections, seed."],
            "audio": ["type": ["object", "null"], "properties": [
                "url": ["type": "string"], "blob_id": ["type": "string"], "size": ["type": "integer"], "content_type": ["type": "string"],
            ]],
            "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
            "started_at": ["type": ["string", "null"], "format": "date-time"], "finished_at": ["type": ["string", "null"], "format": "date-time"],
        ],
    ]

    static let page: JSONValue = [
        "type": "object",
        "properties": ["items": ["type": "array", "items": job], "next_cursor": ["type": ["string", "null"]]],
    ]

    static let workerID: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9._:-]{1,100}$"]

    static let heartbeatRequest: JSONValue = [
        "type": "object", "required": ["worker_id"],
        "properties": ["worker_id": workerID, "engines": ["type": "array", "items": ["type": "string"]], "job_ids": ["type": "array", "items": ["type": "string"]]],
    ]

    static let progressRequest: JSONValue = [
        "type": "object", "required": ["worker_id", "lease_id", "progress"],
        "properties": ["worker_id": workerID, "lease_id": ["type": "string"], "progress": ["type": "number", "minimum": 0, "maximum": 1]],
    ]

    static let failRequest: JSONValue = [
        "type": "object", "required": ["worker_id", "lease_id", "error"],
        "properties": ["worker_id": workerID, "lease_id": ["type": "string"], "error": ["type": "string"], "retryable": ["type": "boolean", "default": true]],
    ]
}

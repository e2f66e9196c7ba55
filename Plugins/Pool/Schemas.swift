import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let contributor: JSONValue = [
        "type": "object",
        "properties": ["user_id": ["type": "string"], "username": ["type": ["string", "null"]], "avatar": ["type": ["string", "null"]]],
    ]

    static let item: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "generation_id": ["type": "string"],
            "quality": ["type": "string", "enum": ["standard", "high", "ultra"]], "points": ["type": "integer"],
            "genre": ["type": ["string", "null"]], "duration_s": ["type": "number"], "plays": ["type": "integer"], "likes": ["type": "integer"],
            "audio_url": ["type": ["string", "null"]], "contributed_at": ["type": "string", "format": "date-time"],
            "source": ["type": "string", "enum": ["auto", "shared"]], "claimed": ["type": "boolean"],
            "withdrawn_at": ["type": "string", "format": "date-time"], "contributor": contributor,
        ],
    ]

    static let page: JSONValue = [
        "type": "object",
        "properties": ["items": ["type": "array", "items": item], "next_cursor": ["type": ["string", "null"]], "sort_by": ["type": "string"]],
    ]

    static let contribute: JSONValue = [
        "type": "object", "required": ["generation_id"], "properties": ["generation_id": ["type": "string", "minLength": 1]],
    ]

    static let claim: JSONValue = [
        "type": "object", "properties": ["item": item, "remaining_today": ["type": "integer"]],
    ]

    static let like: JSONValue = [
        "type": "object", "properties": ["item_id": ["type": "string"], "likes": ["type": "integer"], "liked": ["type": "boolean"]],
    ]

    static let play: JSONValue = [
        "type": "object", "properties": ["item_id": ["type": "string"], "plays": ["type": "integer"], "counted": ["type": "boolean"]],
    ]

    static let ranking: JSONValue = [
        "type": "object",
        "properties": [
            "timeframe": ["type": "string", "enum": ["week", "month", "all_time"]],
            "ranking": ["type": "array", "items": [
                "type": "object",
                "properties": [
                    "rank": ["type": "integer"], "user_id": ["type": "string"], "username": ["type": ["string", "null"]],
                    "avatar": ["type": ["string", "null"]], "tier": ["type": ["string", "null"]], "contributions": ["type": "integer"],
                    "points": ["type": "integer"], "last_contribution": ["type": "string", "format": "date-time"],
                ],
            ]],
        ],
    ]
}

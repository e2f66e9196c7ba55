import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let account: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "provider": ["type": "string"], "label": ["type": "string"],
            "credential": ["type": "string", "description": "Masked: the key's kind prefix and last four characters (sk-…abcd)."],
            "base_url": ["type": ["string", "null"]],
            "proxy": ["type": ["string", "null"], "description": "The proxy URL without its password."],
            "active": ["type": "boolean"], "health": ["type": "string", "enum": ["healthy", "degraded", "banned"]],
            "available": ["type": "boolean"], "request_count": ["type": "integer"], "budget": ["type": "integer"],
            "cooldown_until": ["type": ["string", "null"], "format": "date-time"], "cooldown_reason": ["type": ["string", "null"]],
            "consecutive_errors": ["type": "integer"], "last_error": ["type": ["string", "null"]],
            "last_used_at": ["type": ["string", "null"], "format": "date-time"],
            "stats": ["type": "object", "properties": ["requests": ["type": "integer"], "ok": ["type": "integer"], "rate_limited": ["type": "integer"],
                                                       "errors": ["type": "integer"], "auth_failed": ["type": "integer"]]],
            "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
        ],
    ]

    static let newAccount: JSONValue = [
        "type": "object", "required": ["label", "credential"],
        "properties": [
            "provider": ["type": "string", "description": "Default: the plugin's default_provider."], "label": ["type": "string"],
            "credential": ["type": "string", "writeOnly": true], "base_url": ["type": "string", "format": "uri"],
            "proxy": ["type": "string", "writeOnly": true, "description": "http://user:password@host:port"], "active": ["type": "boolean"],
        ],
    ]

    static let accountChange: JSONValue = [
        "type": "object", "additionalProperties": false,
        "properties": [
            "label": ["type": "string"], "credential": ["type": "string", "writeOnly": true], "base_url": ["type": ["string", "null"]],
            "proxy": ["type": ["string", "null"], "writeOnly": true], "active": ["type": "boolean"],
        ],
    ]

    static let page: JSONValue = [
        "type": "object", "properties": ["data": ["type": "array", "items": account], "next_cursor": ["type": ["string", "null"]]],
    ]

    static let stats: JSONValue = [
        "type": "object",
        "properties": [
            "total_accounts": ["type": "integer"], "active_accounts": ["type": "integer"], "in_cooldown": ["type": "integer"],
            "banned": ["type": "integer"], "inactive": ["type": "integer"], "degraded": ["type": "integer"], "available": ["type": "integer"],
            "rotation_strategy": ["type": "string"], "strategies": ["type": "object"], "provider": ["type": ["string", "null"]],
        ],
    ]

    static let provider: JSONValue = ["type": "object", "properties": ["provider": ["type": "string"]]]

    static let markHealth: JSONValue = [
        "type": "object", "required": ["account_id", "health"],
        "properties": ["account_id": ["type": "string"], "health": ["type": "string", "enum": ["healthy", "degraded", "banned"]],
                       "reason": ["type": "string"]],
    ]
}

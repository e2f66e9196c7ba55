import Son1kPluginKit

/// JSON Schemas shown in /openapi.json.
enum Schemas {
    static let tier: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string"], "name": ["type": "string"], "price_usd": ["type": "number"], "currency": ["type": "string"],
            "period": ["type": "string", "enum": ["day", "month"]], "limit": ["type": "integer"],
            "qualities": ["type": "array", "items": ["type": "string"]], "storage_bytes": ["type": ["integer", "null"]],
            "features": ["type": "array", "items": ["type": "string"]], "per_hour": ["type": ["integer", "null"]],
        ],
    ]

    static let catalog: JSONValue = ["type": "object", "properties": ["tiers": ["type": "array", "items": tier], "default_tier": ["type": "string"]]]

    static let limits: JSONValue = [
        "type": "object",
        "properties": [
            "tier": ["type": "string"],
            "limits": ["type": "object", "properties": [
                "can_generate": ["type": "boolean"], "remaining": ["type": "integer"], "limit": ["type": "integer"],
                "period": ["type": "string"], "reset_at": ["type": "string", "format": "date-time"],
                "reason": ["type": "string", "enum": ["daily_limit_reached", "monthly_limit_reached", "hourly_limit_reached", "storage_quota_exceeded"]],
            ]],
            "config": tier,
            "usage": ["type": "object", "properties": [
                "today": ["type": "integer"], "this_month": ["type": "integer"], "storage_bytes": ["type": "integer"],
                "storage_limit_bytes": ["type": ["integer", "null"]],
            ]],
        ],
    ]

    static let record: JSONValue = [
        "type": "object", "required": ["generation_id"],
        "properties": ["generation_id": ["type": "string", "minLength": 1, "maxLength": 200],
                       "quality": ["type": "string", "enum": ["standard", "high", "ultra"]], "user_id": ["type": "string"]],
    ]

    static let setTier: JSONValue = ["type": "object", "required": ["tier"], "properties": ["tier": ["type": "string"]]]
}

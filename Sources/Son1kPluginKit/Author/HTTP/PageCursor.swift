/// Opaque keyset cursors for list pages: the last row's sort keys as base64url JSON. A page
/// answers `next_cursor: PageCursor.encode([...])`; the next request's `cursor` comes back
/// through ``decode(_:count:)``, which answers 422 for anything this list did not give out.
public enum PageCursor {
    /// A cursor holding a page's last sort keys (opaque to clients: base64url JSON).
    public static func encode(_ values: [JSONValue]) -> String {
        Crypto.base64URL(JSONValue.array(values).bytes)
    }

    /// The `count` key values of `cursor`, or 422 `validation_failed` naming the cursor.
    public static func decode(_ cursor: String, count: Int) throws -> [JSONValue] {
        guard cursor.count <= 512, let bytes = Crypto.base64URLDecode(Substring(cursor)),
              let values = (try? JSONValue.parse(bytes))?.array, values.count == count else {
            throw PluginError.invalid("cursor", "is not a cursor this list gave out.")
        }
        return values
    }
}

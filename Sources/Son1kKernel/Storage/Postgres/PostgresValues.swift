import Foundation
import NIOCore
import PostgresNIO
import Son1kPluginKit

/// Statement parameters and result cells between the kernel's values and PostgreSQL's.
///
/// **Parameters go as untyped text** (type OID 0, text format), the way a quoted literal
/// does: PostgreSQL infers each one's type from where it stands — the column it is compared
/// with or inserted into, `LIMIT`, arithmetic. That is what makes SQLite's loosely typed
/// statements portable: `.int(5)` binds to an `INTEGER` and to a `TEXT` column alike, and
/// `.bool(true)` (sent as `1`) to an integer flag or a `BOOLEAN`. A parameter whose type
/// nothing determines is read as text.
///
/// **Cells come back as SQLite would give them**: integers of any width as integers, `NUMERIC`
/// (what `SUM` and `AVG` of integers return) as an integer when it has no fraction, booleans
/// as 1 or 0, bytes as base64 text, everything else as its text.
enum PostgresValues {
    struct Untyped: PostgresDynamicTypeEncodable {
        let text: String
        var psqlType: PostgresDataType { .null }
        var psqlFormat: PostgresFormat { .text }
        func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
            byteBuffer.writeString(text)
        }
    }

    static func bindings(_ params: [SQLValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: params.count)
        for value in params {
            switch value {
            case .null: binds.appendNull()
            case .int(let i): binds.append(Untyped(text: String(i)))
            case .double(let d): binds.append(Untyped(text: text(of: d)))
            case .text(let s): binds.append(Untyped(text: s))
            case .bool(let b): binds.append(Untyped(text: b ? "1" : "0"))
            }
        }
        return binds
    }

    /// A whole double without a fraction (`3`, not `3.0`), so it also binds to an integer.
    static func text(of d: Double) -> String {
        if d.rounded() == d, abs(d) < 9.0e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func json(_ cell: PostgresCell) -> JSONValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return (try? cell.decode(Int64.self)).map(JSONValue.integer) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(JSONValue.number) ?? .null
        case .numeric:
            guard let decimal = try? cell.decode(Decimal.self) else { return .null }
            let text = "\(decimal)"
            if let i = Int64(text) { return .integer(i) }
            return .number(Double(text) ?? NSDecimalNumber(decimal: decimal).doubleValue)
        case .bool:
            return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .bytea:
            return (try? cell.decode([UInt8].self)).map { .string(Data($0).base64EncodedString()) } ?? .null
        default:
            if let s = try? cell.decode(String.self) { return .string(s) }
            var bytes = cell.bytes!
            return .string(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }

    static func row(_ row: PostgresRow) -> StorageRow {
        var out: StorageRow = [:]
        for cell in row { out[cell.columnName] = json(cell) }
        return out
    }

    /// Rows as the JSON array plugins receive: one object per row, columns in select order.
    static func jsonArray(_ rows: [PostgresRow]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(64 + rows.count * 96)
        for (r, row) in rows.enumerated() {
            if r > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            for (i, cell) in row.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.string(cell.columnName).write(into: &out)
                out.append(UInt8(ascii: ":"))
                json(cell).write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}

//! `JSON.stringify` for `serde_json` values, so a stored session is byte for byte what
//! auth-js stores: compact, keys in insertion order, non-ASCII raw, `/` unescaped, and
//! every number formatted as a JS double (`1`, `0.30000000000000004`, `1e+21`).

use serde_json::Value;

/// Serializes `value` as `JSON.stringify(value)` would.
pub(crate) fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            // JS objects list array-index keys first, in ascending order, then the rest
            // in insertion order; JSON.parse and JSON.stringify follow that order.
            let mut indexed: Vec<(u32, &String, &Value)> = map
                .iter()
                .filter_map(|(k, v)| array_index(k).map(|i| (i, k, v)))
                .collect();
            indexed.sort_unstable_by_key(|(i, _, _)| *i);
            let rest = map.iter().filter(|(k, _)| array_index(k).is_none());
            let entries = indexed.into_iter().map(|(_, k, v)| (k, v)).chain(rest);
            for (i, (k, v)) in entries.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_value(v, out);
            }
            out.push('}');
        }
    }
}

/// The value of a canonical array index (`0`, or digits without a leading zero, below
/// 2^32 - 1), the keys JS orders first.
pub(crate) fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0"
        || (!key.is_empty()
            && key.len() <= 10
            && !key.starts_with('0')
            && key.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return None;
    }
    key.parse::<u32>().ok().filter(|i| *i != u32::MAX)
}

/// JS truthiness of a JSON value.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn write_number(n: &serde_json::Number, out: &mut String) {
    // Every JS number is a double: integers beyond 2^53 lose precision exactly as
    // JSON.parse would make them.
    let f = n
        .as_f64()
        .unwrap_or_else(|| n.to_string().parse::<f64>().unwrap_or(f64::NAN));
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format(f));
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            _ => None,
        };
        if escape.is_none() && b >= 0x20 {
            continue;
        }
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn array_index_keys_come_first() {
        let v: Value = serde_json::from_str(
            r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"4294967295":6,"4294967294":7}"#,
        )
        .unwrap();
        assert_eq!(
            stringify(&v),
            r#"{"2":4,"10":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6}"#
        );
    }

    #[test]
    fn matches_json_stringify() {
        let v: Value = serde_json::from_str(
            r#"{"b":1.0,"a":[0.1,1e21,1E5,-0.0,12345678901234567890,1.5e-7],"s":"é/\"\\\n\u0001\u007f😀","n":null,"t":true}"#,
        )
        .unwrap();
        assert_eq!(
            stringify(&v),
            "{\"b\":1,\"a\":[0.1,1e+21,100000,0,12345678901234567000,1.5e-7],\"s\":\"é/\\\"\\\\\\n\\u0001\u{7f}😀\",\"n\":null,\"t\":true}"
        );
    }
}

//! Typed reading of `config.toml` values the way the Supabase CLI decodes them: viper
//! and mapstructure with weak typing (`"true"` is a boolean, `"3600"` an integer), the
//! `env(NAME)` hook, and Go durations (`"1s"`, `"1m30s"`). Every error names the key.

use std::time::Duration;

use toml::{Table, Value};

use crate::error::{EmulatorError, ErrorKind};

/// Looks up an environment variable (injectable, so tests need not touch the process
/// environment).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the values of one table, `path` being its dotted name (`auth.email`).
pub(crate) struct Section<'a> {
    pub(crate) path: String,
    pub(crate) table: &'a Table,
    pub(crate) env: EnvLookup<'a>,
}

pub(crate) fn config_error(message: String) -> EmulatorError {
    EmulatorError::new(ErrorKind::Config, message)
}

/// A TOML value in the words of an error message: `string "yes"`, `integer 5`.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".to_string(),
        Value::Table(_) => "a table".to_string(),
    }
}

/// The name inside `env(NAME)`, as the CLI's `^env\((.*)\)$`.
fn env_name(s: &str) -> Option<&str> {
    s.strip_prefix("env(")?.strip_suffix(')')
}

impl<'a> Section<'a> {
    /// The sub-table `name`, if present.
    pub(crate) fn table(&self, name: &str) -> Result<Option<Section<'a>>, EmulatorError> {
        match self.table.get(name) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Section {
                path: self.key(name),
                table: t,
                env: self.env,
            })),
            Some(other) => Err(config_error(format!(
                "{}: expected a table, found {}",
                self.key(name),
                describe(other)
            ))),
        }
    }

    fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// `env(NAME)` replaced by `$NAME` when that is set and not empty; otherwise the
    /// text as written (the CLI keeps the literal and warns).
    fn expand(&self, s: &str) -> String {
        match env_name(s).and_then(|name| (self.env)(name)) {
            Some(v) if !v.is_empty() => v,
            _ => s.to_string(),
        }
    }

    fn mismatch(&self, name: &str, expected: &str, found: &Value) -> EmulatorError {
        let unset = match found {
            Value::String(s) => env_name(s)
                .map(|n| format!(" (the environment variable {n} is not set)"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        config_error(format!(
            "{}: expected {expected}, found {}{unset}",
            self.key(name),
            describe(found)
        ))
    }

    /// A boolean; also `"true"`, `"0"`, `""` (false) and so on, as Go's `ParseBool`.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, EmulatorError> {
        let Some(v) = self.table.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Boolean(b) => Some(*b),
            Value::Integer(i) => Some(*i != 0),
            Value::String(s) => match self.expand(s).as_str() {
                "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
                _ => None,
            },
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.mismatch(name, "a boolean", v))
    }

    /// A non-negative integer; also a string holding one (`""` is 0).
    pub(crate) fn uint(&self, name: &str) -> Result<Option<u64>, EmulatorError> {
        let Some(v) = self.table.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Integer(i) => u64::try_from(*i).ok(),
            Value::Boolean(b) => Some(u64::from(*b)),
            Value::String(s) => match self.expand(s).as_str() {
                "" => Some(0),
                text => text.parse().ok(),
            },
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.mismatch(name, "a non-negative integer", v))
    }

    /// A string; numbers and booleans are taken as their text, as the CLI does.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, EmulatorError> {
        let Some(v) = self.table.get(name) else {
            return Ok(None);
        };
        self.scalar_text(v)
            .map(Some)
            .ok_or_else(|| self.mismatch(name, "a string", v))
    }

    fn scalar_text(&self, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(self.expand(s)),
            Value::Integer(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            // mapstructure's weak decoding writes a boolean as "1" or "0".
            Value::Boolean(b) => Some(if *b { "1" } else { "0" }.to_string()),
            _ => None,
        }
    }

    /// An array of strings, or one string of comma-separated items.
    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>, EmulatorError> {
        let Some(v) = self.table.get(name) else {
            return Ok(None);
        };
        match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    self.scalar_text(item)
                        .ok_or_else(|| self.mismatch(&format!("{name}[{i}]"), "a string", item))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Value::String(s) => {
                let text = self.expand(s);
                Ok(Some(if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',').map(str::to_string).collect()
                }))
            }
            other => Err(self.mismatch(name, "an array of strings", other)),
        }
    }

    /// A Go duration (`"1s"`, `"1m30s"`, `"500ms"`); an integer counts nanoseconds, as
    /// in the CLI. A negative duration reads as zero.
    pub(crate) fn duration(&self, name: &str) -> Result<Option<Duration>, EmulatorError> {
        let Some(v) = self.table.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Integer(i) => {
                Some(u64::try_from(*i).map_or(Duration::ZERO, Duration::from_nanos))
            }
            Value::String(s) => parse_go_duration(&self.expand(s)),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.mismatch(name, "a duration such as \"1s\" or \"1m30s\"", v))
    }
}

/// Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers each
/// with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `"0"` alone is allowed. A
/// negative duration gives zero (GoTrue then never waits).
pub(crate) fn parse_go_duration(s: &str) -> Option<Duration> {
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_len);
        let nanos_per: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut value = int.checked_mul(nanos_per)?;
        if !frac_part.is_empty() {
            // At most 18 fractional digits matter below a nanosecond-hour.
            let digits = &frac_part[..frac_part.len().min(18)];
            let frac: u128 = digits.parse().ok()?;
            let scale = 10u128.pow(u32::try_from(digits.len()).ok()?);
            value = value.checked_add(frac.checked_mul(nanos_per)? / scale)?;
        }
        total = total.checked_add(value)?;
        rest = next;
    }
    if negative {
        return Some(Duration::ZERO);
    }
    let secs = u64::try_from(total / 1_000_000_000).ok()?;
    let nanos = u32::try_from(total % 1_000_000_000).ok()?;
    Some(Duration::new(secs, nanos))
}

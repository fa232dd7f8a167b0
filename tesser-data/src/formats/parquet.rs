//! Apache Parquet trade files, read column by column (no arrow) through a
//! [`ColumnMap`] naming the columns.
//!
//! Accepted column types:
//! - timestamp: INT64 or INT32. A `TIMESTAMP(MILLIS|MICROS|NANOS)` logical
//!   type gives the unit; a plain integer's unit is detected from the first
//!   row's magnitude ([`TimeUnit::from_magnitude`]). Truncated to ms.
//! - price and size: a string (UTF-8 decimal text), INT32/INT64 (with a
//!   `DECIMAL(p, s)` scale if any), or FLOAT/DOUBLE. A float is turned into
//!   the shortest decimal text that reads back as the same float, so
//!   `0.1` stays `0.1`; the float itself was already rounded by the writer.
//! - side: a string, `buy`/`sell`/`unknown` in any case, or null (no
//!   aggressor); optional.
//! - symbol: a string; optional when a symbol is given.
//!
//! A null anywhere but in the side column is a bad row. Rows are numbered from 1 in error messages, in the
//! place of line numbers.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;
use rust_decimal::Decimal;
use tesser_core::Tick;

use super::{decimal, millis, side};
use crate::reader::{ParseState, positive, quoted};
use crate::{ColumnMap, DataError, TimeUnit};

/// Timestamp column names tried, in order, when the mapping names none.
const TIMESTAMP_NAMES: [&str; 4] = ["timestamp_ms", "timestamp", "ts", "time"];

/// Size column names tried, in order, when the mapping names none.
const SIZE_NAMES: [&str; 4] = ["size", "amount", "qty", "quantity"];

/// Values read per call into a column reader.
const BATCH: usize = 64 * 1024;

/// One column's values for the current row group.
enum Values {
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

/// A mapped column: where it is, how to read it, and its buffered values.
struct Column {
    /// What the mapping calls it (`price`), for messages.
    role: &'static str,
    /// Its name in the file.
    name: String,
    index: usize,
    max_def: i16,
    /// Decimal scale of an integer DECIMAL column.
    scale: u32,
    /// Time unit of a TIMESTAMP column.
    unit: Option<TimeUnit>,
    defs: Vec<i16>,
    values: Values,
    /// Next value to take from `values`.
    cursor: usize,
}

/// One value of a row, before conversion.
enum Value<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bytes(&'a [u8]),
}

impl Column {
    fn open(
        role: &'static str,
        name: &str,
        columns: &[ColumnDescPtr],
        source_name: &str,
    ) -> Result<Self, DataError> {
        let found = columns
            .iter()
            .position(|c| c.path().string() == name || c.name() == name);
        let Some(index) = found else {
            let names: Vec<String> = columns.iter().map(|c| c.path().string()).collect();
            return Err(DataError::Parquet {
                source_name: source_name.to_owned(),
                reason: format!(
                    "no column {name:?} for {role}; the file has columns {}",
                    names.join(", ")
                ),
            });
        };
        let descr = &columns[index];
        let values = match descr.physical_type() {
            PhysicalType::INT32 => Values::I32(Vec::new()),
            PhysicalType::INT64 => Values::I64(Vec::new()),
            PhysicalType::FLOAT => Values::F32(Vec::new()),
            PhysicalType::DOUBLE => Values::F64(Vec::new()),
            PhysicalType::BYTE_ARRAY => Values::Bytes(Vec::new()),
            other => {
                return Err(DataError::Parquet {
                    source_name: source_name.to_owned(),
                    reason: format!(
                        "column {name:?} ({role}) has type {other}; expected INT32, INT64, FLOAT, DOUBLE or a string"
                    ),
                });
            }
        };
        let unit = match descr.logical_type_ref() {
            Some(LogicalType::Timestamp(t)) => Some(match t.unit {
                parquet::basic::TimeUnit::MILLIS => TimeUnit::Millis,
                parquet::basic::TimeUnit::MICROS => TimeUnit::Micros,
                parquet::basic::TimeUnit::NANOS => TimeUnit::Nanos,
            }),
            _ => None,
        };
        Ok(Self {
            role,
            name: name.to_owned(),
            index,
            max_def: descr.max_def_level(),
            scale: u32::try_from(descr.type_scale()).unwrap_or(0),
            unit,
            defs: Vec::new(),
            values,
            cursor: 0,
        })
    }

    /// Reads this column of one row group into the buffers.
    fn load(&mut self, reader: ColumnReader) -> parquet::errors::Result<()> {
        self.defs.clear();
        self.cursor = 0;
        let defs = (self.max_def > 0).then_some(&mut self.defs);
        match (reader, &mut self.values) {
            (ColumnReader::Int32ColumnReader(mut r), Values::I32(v)) => {
                v.clear();
                read_all(defs, |d| r.read_records(BATCH, d, None, v))
            }
            (ColumnReader::Int64ColumnReader(mut r), Values::I64(v)) => {
                v.clear();
                read_all(defs, |d| r.read_records(BATCH, d, None, v))
            }
            (ColumnReader::FloatColumnReader(mut r), Values::F32(v)) => {
                v.clear();
                read_all(defs, |d| r.read_records(BATCH, d, None, v))
            }
            (ColumnReader::DoubleColumnReader(mut r), Values::F64(v)) => {
                v.clear();
                read_all(defs, |d| r.read_records(BATCH, d, None, v))
            }
            (ColumnReader::ByteArrayColumnReader(mut r), Values::Bytes(v)) => {
                v.clear();
                read_all(defs, |d| r.read_records(BATCH, d, None, v))
            }
            _ => Err(parquet::errors::ParquetError::General(format!(
                "column {:?} changed type between row groups",
                self.name
            ))),
        }
    }

    /// Where row `row`'s value is in the buffer (`None` for a null),
    /// moving past it. Call once per row, for every column.
    fn slot(&mut self, row: usize) -> Option<usize> {
        if self.max_def > 0 && self.defs.get(row).is_none_or(|d| *d < self.max_def) {
            return None;
        }
        let at = self.cursor;
        self.cursor += 1;
        Some(at)
    }

    /// The value at `slot`.
    fn get(&self, slot: Option<usize>) -> Value<'_> {
        let Some(at) = slot else {
            return Value::Null;
        };
        match &self.values {
            Values::I32(v) => v.get(at).map_or(Value::Null, |x| Value::Int(i64::from(*x))),
            Values::I64(v) => v.get(at).map_or(Value::Null, |x| Value::Int(*x)),
            Values::F32(v) => v
                .get(at)
                .map_or(Value::Null, |x| Value::Float(f64::from(*x))),
            Values::F64(v) => v.get(at).map_or(Value::Null, |x| Value::Float(*x)),
            Values::Bytes(v) => v.get(at).map_or(Value::Null, |x| Value::Bytes(x.data())),
        }
    }
}

/// Calls `read` until it reads no more records.
fn read_all(
    mut defs: Option<&mut Vec<i16>>,
    mut read: impl FnMut(Option<&mut Vec<i16>>) -> parquet::errors::Result<(usize, usize, usize)>,
) -> parquet::errors::Result<()> {
    loop {
        let (records, _, _) = read(defs.as_deref_mut())?;
        if records == 0 {
            return Ok(());
        }
    }
}

/// Reads trades from a Parquet file, one row group in memory at a time.
pub(crate) struct ParquetTrades {
    file: SerializedFileReader<File>,
    source_name: String,
    columns: Vec<Column>,
    row_group: usize,
    rows_in_group: usize,
    row_in_group: usize,
    row: u64,
    text: String,
}

impl ParquetTrades {
    /// Opens `path` and finds the mapped columns.
    pub(crate) fn open(
        path: &Path,
        map: &ColumnMap,
        symbol_given: bool,
    ) -> Result<Self, DataError> {
        let source_name = path.display().to_string();
        let parquet_error = |e: parquet::errors::ParquetError| DataError::Parquet {
            source_name: source_name.clone(),
            reason: format!("not a readable Parquet file ({e})"),
        };
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: source_name.clone(),
            error,
        })?;
        let file = SerializedFileReader::new(file).map_err(parquet_error)?;
        let descrs = file
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .to_vec();
        let has = |name: &str| {
            descrs
                .iter()
                .any(|c| c.path().string() == name || c.name() == name)
        };
        let pick = |given: &Option<String>, candidates: &[&str]| -> String {
            given.clone().unwrap_or_else(|| {
                let found = candidates.iter().find(|c| has(c));
                (*found.unwrap_or(&candidates[0])).to_owned()
            })
        };
        let mut columns = vec![
            Column::open(
                "timestamp",
                &pick(&map.timestamp, &TIMESTAMP_NAMES),
                &descrs,
                &source_name,
            )?,
            Column::open(
                "price",
                &pick(&map.price, &["price"]),
                &descrs,
                &source_name,
            )?,
            Column::open("size", &pick(&map.size, &SIZE_NAMES), &descrs, &source_name)?,
        ];
        // Side and symbol: a mapped column must exist; unmapped, `side` and
        // `symbol` are used when the file has them.
        for (role, given) in [("side", &map.side), ("symbol", &map.symbol)] {
            match given {
                Some(name) => columns.push(Column::open(role, name, &descrs, &source_name)?),
                None if has(role) => columns.push(Column::open(role, role, &descrs, &source_name)?),
                None => {}
            }
        }
        let has_symbol = columns.iter().any(|c| c.role == "symbol");
        if !has_symbol && !symbol_given {
            return Err(DataError::Parquet {
                source_name,
                reason: "no symbol column (map one, e.g. symbol=sym) and no symbol given"
                    .to_owned(),
            });
        }
        Ok(Self {
            file,
            source_name,
            columns,
            row_group: 0,
            rows_in_group: 0,
            row_in_group: 0,
            row: 0,
            text: String::new(),
        })
    }

    /// The name used in errors.
    pub(crate) fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Rows read so far: the number of the current row.
    pub(crate) fn row(&self) -> u64 {
        self.row
    }

    /// Moves to the next row; `Ok(false)` at the end of the file.
    pub(crate) fn advance(&mut self) -> Result<bool, DataError> {
        while self.row_in_group >= self.rows_in_group {
            if self.row_group >= self.file.num_row_groups() {
                return Ok(false);
            }
            let group = self
                .file
                .get_row_group(self.row_group)
                .map_err(|e| self.error(&e))?;
            self.rows_in_group = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
            for column in &mut self.columns {
                let reader =
                    group
                        .get_column_reader(column.index)
                        .map_err(|e| DataError::Parquet {
                            source_name: self.source_name.clone(),
                            reason: format!("row group {}: {e}", self.row_group),
                        })?;
                column.load(reader).map_err(|e| DataError::Parquet {
                    source_name: self.source_name.clone(),
                    reason: format!(
                        "row group {}, column {:?}: {e}",
                        self.row_group, column.name
                    ),
                })?;
            }
            self.row_group += 1;
            self.row_in_group = 0;
        }
        self.row += 1;
        Ok(true)
    }

    fn error(&self, e: &parquet::errors::ParquetError) -> DataError {
        DataError::Parquet {
            source_name: self.source_name.clone(),
            reason: format!("row group {}: {e}", self.row_group),
        }
    }

    /// Parses the current row (after [`ParquetTrades::advance`]).
    pub(crate) fn parse(&mut self, state: &mut ParseState) -> Result<Tick, String> {
        let row = self.row_in_group;
        self.row_in_group += 1;
        // Every column moves past this row first, whatever fails below.
        let mut slots = [None; 5];
        for (slot, column) in slots.iter_mut().zip(&mut self.columns) {
            *slot = column.slot(row);
        }
        let text = &mut self.text;
        let [timestamp, price, size, rest @ ..] = self.columns.as_slice() else {
            return Err("internal: the timestamp, price and size columns are missing".to_owned());
        };
        let raw_time = match timestamp.get(slots[0]) {
            Value::Int(v) => v,
            other => return Err(wrong("timestamp", &other, "an integer")),
        };
        let price = number(price, slots[1], text)?;
        let size = number(size, slots[2], text)?;
        let (mut aggressor, mut symbol) = (None, "");
        for (column, slot) in rest.iter().zip(&slots[3..]) {
            let role = column.role;
            let value = match column.get(*slot) {
                Value::Bytes(b) => {
                    std::str::from_utf8(b).map_err(|_| format!("column {role}: not valid UTF-8"))?
                }
                // A null side: the aggressor is unknown.
                Value::Null if role == "side" => "",
                other => return Err(wrong(role, &other, "a string")),
            };
            if role == "side" {
                aggressor = side("side", value)?;
            } else {
                symbol = value.trim();
            }
        }
        let unit = match timestamp.unit.or(state.time_unit) {
            Some(unit) => unit,
            None => *state.time_unit.insert(TimeUnit::from_magnitude(raw_time)),
        };
        let timestamp_ms = millis("timestamp", raw_time, unit)?;
        state.finish(timestamp_ms, symbol, price, size, aggressor)
    }
}

/// A price or size value as a positive decimal.
fn number(column: &Column, slot: Option<usize>, text: &mut String) -> Result<Decimal, String> {
    let role = column.role;
    let scale = column.scale;
    match column.get(slot) {
        Value::Int(v) => {
            let value = Decimal::try_from_i128_with_scale(i128::from(v), scale)
                .map_err(|e| format!("column {role}: {v} with scale {scale}: {e}"))?;
            positive(&value.to_string(), value).map_err(|r| format!("column {role}: {r}"))
        }
        Value::Float(v) => {
            text.clear();
            // `{}` prints the shortest text that reads back as the same
            // float; that text is parsed as a decimal, never rounded via f64.
            write!(text, "{v}").map_err(|e| format!("column {role}: {e}"))?;
            decimal(role, text)
        }
        Value::Bytes(b) => {
            let text =
                std::str::from_utf8(b).map_err(|_| format!("column {role}: not valid UTF-8"))?;
            decimal(role, text)
        }
        Value::Null => Err(format!("column {role}: null")),
    }
}

fn wrong(role: &str, value: &Value<'_>, expected: &str) -> String {
    let found = match value {
        Value::Null => "null".to_owned(),
        Value::Int(v) => v.to_string(),
        Value::Float(v) => v.to_string(),
        Value::Bytes(b) => quoted(&String::from_utf8_lossy(b)),
    };
    format!("column {role}: {found} is not {expected}")
}

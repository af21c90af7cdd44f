//! NumPy `.npy` (numpy `lib/format.py`): `\x93NUMPY`, major and minor version, the header
//! length (u16 LE in version 1, u32 LE since), then a Python dict literal with `descr`,
//! `fortran_order` and `shape`, then the data (a pickle when the dtype holds objects).
//!
//! The header is parsed by a small literal parser here, never evaluated.

use std::io::{self, Read, Seek};

use super::{Details, Probe, element_count};

pub(super) const MAGIC: &[u8] = b"\x93NUMPY";
/// Magic, version and the longest length field: enough to know where the header ends.
pub(super) const PREAMBLE_LEN: usize = 12;

pub(super) fn check_npy<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some((start, len)) = header_span(&probe.head) else {
        return Ok(None);
    };
    if len > probe.limits.npy_header_max {
        return Ok(Some(Details::note(format!(
            "header of {len} bytes, over the {} byte limit",
            probe.limits.npy_header_max
        ))));
    }
    let Some(data_len) = probe.size.checked_sub(start + len) else {
        return Ok(Some(Details::note("header runs past the end of the file")));
    };
    let header = probe.read_at(start, len as usize)?;
    Ok(Some(describe(&header, data_len)))
}

/// Where the header dict starts and how long it is, from the first `PREAMBLE_LEN` bytes.
pub(super) fn header_span(preamble: &[u8]) -> Option<(u64, u64)> {
    if !preamble.starts_with(MAGIC) {
        return None;
    }
    match preamble.get(6)? {
        1 => Some((
            10,
            u64::from(u16::from_le_bytes([*preamble.get(8)?, *preamble.get(9)?])),
        )),
        2 | 3 => Some((12, u64::from(super::le_u32(preamble, 8)?))),
        _ => None,
    }
}

/// What a header says about an array whose data takes `data_len` bytes. An unparsable header
/// still names the format (the magic is unambiguous) but claims no counts.
pub(super) fn describe(header: &[u8], data_len: u64) -> Details {
    let text = String::from_utf8_lossy(header);
    let Some(array) = parse_header(&text) else {
        return Details::note("header is not a valid descr/fortran_order/shape dict");
    };
    let mut details = Details::default();
    let count = element_count(array.shape.iter().copied());
    let dtype = array.dtype.name();
    details.add_dtype(dtype.clone());
    if array.dtype.has_object() {
        details.executes_code = Some(true);
        details.tensors = Some(1);
        details.parameters = count;
        details.note = Some("object array: the data is a pickle".into());
        return details;
    }
    let needed = count
        .zip(array.dtype.item_size())
        .and_then(|(c, s)| c.checked_mul(s));
    match needed {
        Some(needed) if needed <= data_len => {
            details.tensors = Some(1);
            details.parameters = count;
        }
        Some(needed) => {
            details.note = Some(format!(
                "shape {:?} of {dtype} needs {needed} bytes of data, the file holds {data_len}: truncated",
                array.shape
            ));
        }
        None => details.note = Some(format!("shape {:?} overflows", array.shape)),
    }
    details
}

/// Whether an `.npy` header (the dict text) gives a dtype that holds Python objects, so that the
/// data is a pickle `np.load(allow_pickle=True)` runs. `None` when the header does not parse.
pub(crate) fn header_holds_objects(header: &[u8]) -> Option<bool> {
    parse_header(&String::from_utf8_lossy(header)).map(|array| array.dtype.has_object())
}

/// What `verify` needs of an `.npy` header: the type string (`None` for a structured dtype),
/// the order and the shape, and where the data starts.
pub(crate) struct NpyArray {
    pub descr: Option<String>,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    pub data_offset: u64,
}

/// Reads and parses the `.npy` header at the start of `reader`, the header within
/// `npy-header-max` of `policy/formats.toml`; the error says what is wrong.
pub(crate) fn read_array_header(
    reader: &mut impl Read,
    limits: &super::Limits,
) -> Result<NpyArray, String> {
    let mut preamble = Vec::with_capacity(PREAMBLE_LEN);
    reader
        .take(PREAMBLE_LEN as u64)
        .read_to_end(&mut preamble)
        .map_err(|e| format!("cannot read: {e}"))?;
    let (start, len) =
        header_span(&preamble).ok_or("not a NumPy .npy array (no \\x93NUMPY magic and version)")?;
    if len > limits.npy_header_max {
        return Err(format!(
            "header of {len} bytes, over npy-header-max ({}) in policy/formats.toml",
            limits.npy_header_max
        ));
    }
    // Version 1 headers start at 10: two bytes of the preamble read belong to the header.
    let mut header = preamble.split_off(start as usize);
    header.truncate(len as usize);
    reader
        .take(len - header.len() as u64)
        .read_to_end(&mut header)
        .map_err(|e| format!("cannot read the header: {e}"))?;
    if header.len() as u64 != len {
        return Err("the header runs past the end of the file".into());
    }
    let array = parse_header(&String::from_utf8_lossy(&header))
        .ok_or("the header is not a valid descr/fortran_order/shape dict")?;
    Ok(NpyArray {
        descr: match array.dtype {
            Dtype::Simple(descr) => Some(descr),
            Dtype::Structured(_) => None,
        },
        fortran_order: array.fortran_order,
        shape: array.shape,
        data_offset: start + len,
    })
}

struct ArrayHeader {
    dtype: Dtype,
    fortran_order: bool,
    shape: Vec<u64>,
}

fn parse_header(text: &str) -> Option<ArrayHeader> {
    let mut parser = Parser {
        rest: text.trim_end(),
        depth: 0,
    };
    let Literal::Dict(items) = parser.literal()? else {
        return None;
    };
    if !parser.rest.trim().is_empty() {
        return None;
    }
    let get = |key: &str| {
        items
            .iter()
            .find(|(k, _)| matches!(k, Literal::Str(s) if s == key))
            .map(|(_, v)| v)
    };
    let Literal::Bool(fortran_order) = get("fortran_order")? else {
        return None;
    };
    let Literal::Tuple(dims) = get("shape")? else {
        return None;
    };
    let shape = dims
        .iter()
        .map(|d| match d {
            Literal::Int(n) => Some(*n),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(ArrayHeader {
        dtype: Dtype::from_descr(get("descr")?)?,
        fortran_order: *fortran_order,
        shape,
    })
}

/// A NumPy dtype as written in `descr`: a type string, or a list of named fields.
enum Dtype {
    Simple(String),
    Structured(Vec<(Dtype, u64)>),
}

impl Dtype {
    fn from_descr(descr: &Literal) -> Option<Self> {
        match descr {
            Literal::Str(s) => Some(Dtype::Simple(s.clone())),
            Literal::List(fields) => fields
                .iter()
                .map(|field| {
                    // ('name', descr) or ('name', descr, shape)
                    let Literal::Tuple(parts) = field else {
                        return None;
                    };
                    let inner = Dtype::from_descr(parts.get(1)?)?;
                    let repeat = match parts.get(2) {
                        None => 1,
                        Some(Literal::Tuple(dims)) => {
                            element_count(dims.iter().map(|d| match d {
                                Literal::Int(n) => *n,
                                _ => 0,
                            }))?
                        }
                        Some(_) => return None,
                    };
                    Some((inner, repeat))
                })
                .collect::<Option<_>>()
                .map(Dtype::Structured),
            // `np.dtype((base, shape))`, `(base, count)` or `(base, other_dtype)`: `np.load`
            // hands any descr that is not a string or a list to `np.dtype`.
            Literal::Tuple(parts) => {
                let inner = Dtype::from_descr(parts.first()?)?;
                match parts.get(1..)? {
                    [] => Some(inner),
                    [Literal::Tuple(dims)] => {
                        let repeat = element_count(dims.iter().map(|d| match d {
                            Literal::Int(n) => *n,
                            _ => 0,
                        }))?;
                        Some(Dtype::Structured(vec![(inner, repeat)]))
                    }
                    [Literal::Int(n)] => Some(Dtype::Structured(vec![(inner, *n)])),
                    [other] => Some(Dtype::Structured(vec![
                        (inner, 1),
                        (Dtype::from_descr(other)?, 0),
                    ])),
                    _ => None,
                }
            }
            // `{'names': [...], 'formats': [...], ...}`.
            Literal::Dict(items) => {
                let formats = items.iter().find_map(|(k, v)| match (k, v) {
                    (Literal::Str(key), Literal::List(formats)) if key == "formats" => {
                        Some(formats)
                    }
                    _ => None,
                })?;
                formats
                    .iter()
                    .map(|f| Dtype::from_descr(f).map(|d| (d, 1)))
                    .collect::<Option<_>>()
                    .map(Dtype::Structured)
            }
            _ => None,
        }
    }

    /// Whether the dtype can hold Python objects (so its data is a pickle), however spelled:
    /// `O`, `|O8`, `object`, `object_`, a comma-separated `i4,O`, a subarray `(2,)O`, a
    /// structured or subarray dtype with such a field.
    fn has_object(&self) -> bool {
        match self {
            Dtype::Simple(s) => {
                // Subarray shapes (`(2,3)O`) dropped, then each comma-separated field.
                let mut depth = 0u32;
                let flat: String = s
                    .chars()
                    .filter(|&c| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth = depth.saturating_sub(1),
                            _ => return depth == 0,
                        }
                        false
                    })
                    .collect();
                flat.split(',').any(|part| {
                    let body = part.trim().trim_start_matches(['<', '>', '|', '=']);
                    body.starts_with('O') || body.to_ascii_lowercase().starts_with("object")
                })
            }
            Dtype::Structured(fields) => fields.iter().any(|(f, _)| f.has_object()),
        }
    }

    fn item_size(&self) -> Option<u64> {
        match self {
            Dtype::Simple(s) => {
                let (kind, width) = simple_parts(s);
                let width: u64 = width.parse().ok()?;
                match kind {
                    'U' => width.checked_mul(4),
                    'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' | 'M' | 'm' => Some(width),
                    _ => None,
                }
            }
            Dtype::Structured(fields) => fields.iter().try_fold(0u64, |sum, (f, repeat)| {
                sum.checked_add(f.item_size()?.checked_mul(*repeat)?)
            }),
        }
    }

    fn name(&self) -> String {
        let Dtype::Simple(s) = self else {
            return "structured".into();
        };
        let (kind, width) = simple_parts(s);
        let bits = width.parse::<u64>().ok().and_then(|w| w.checked_mul(8));
        match (kind, bits) {
            ('b', _) => "bool".into(),
            ('i', Some(b)) => format!("int{b}"),
            ('u', Some(b)) => format!("uint{b}"),
            ('f', Some(b)) => format!("float{b}"),
            ('c', Some(b)) => format!("complex{b}"),
            ('O', _) => "object".into(),
            ('U', _) => "str".into(),
            ('S' | 'a', _) => "bytes".into(),
            ('V', _) => "void".into(),
            ('M', _) => "datetime64".into(),
            ('m', _) => "timedelta64".into(),
            _ => s.to_ascii_lowercase(),
        }
    }
}

/// `'<f4'` → (`f`, `"4"`); `'<M8[ns]'` → (`M`, `"8"`).
fn simple_parts(descr: &str) -> (char, &str) {
    let body = descr.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = body.chars();
    let kind = chars.next().unwrap_or('?');
    let width = chars.as_str();
    let width = width.split('[').next().unwrap_or(width);
    (kind, width)
}

/// The Python literals that appear in `.npy` headers.
enum Literal {
    Str(String),
    Int(u64),
    /// `True` or `False` (only `fortran_order` uses them).
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// Nesting deeper than this is not a dtype anyone writes; the bound keeps recursion finite.
const MAX_DEPTH: u32 = 16;

struct Parser<'a> {
    rest: &'a str,
    depth: u32,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, token: char) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn literal(&mut self) -> Option<Literal> {
        self.skip_space();
        let first = self.rest.chars().next()?;
        match first {
            '\'' | '"' => self.string().map(Literal::Str),
            '(' | '[' | '{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                let literal = self.sequence(first);
                self.depth -= 1;
                literal
            }
            '0'..='9' => {
                let end = self
                    .rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(self.rest.len());
                let value = self.rest[..end].parse().ok()?;
                self.rest = &self.rest[end..];
                // Python 2 wrote long integers with an L suffix.
                self.rest = self.rest.strip_prefix('L').unwrap_or(self.rest);
                Some(Literal::Int(value))
            }
            _ => self.word(),
        }
    }

    fn word(&mut self) -> Option<Literal> {
        for (word, literal) in [
            ("True", Literal::Bool(true)),
            ("False", Literal::Bool(false)),
            ("None", Literal::None),
        ] {
            if let Some(rest) = self.rest.strip_prefix(word) {
                self.rest = rest;
                return Some(literal);
            }
        }
        None
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.rest.chars().next()?;
        let body = &self.rest[1..];
        let end = body.find(quote)?;
        // dtype strings and field names never need escapes; a backslash means something else.
        if body[..end].contains('\\') {
            return None;
        }
        self.rest = &body[end + 1..];
        Some(body[..end].to_string())
    }

    fn sequence(&mut self, open: char) -> Option<Literal> {
        let close = match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        self.rest = &self.rest[1..];
        let mut items = Vec::new();
        let mut pairs = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                break;
            }
            let item = self.literal()?;
            if open == '{' {
                if !self.eat(':') {
                    return None;
                }
                pairs.push((item, self.literal()?));
            } else {
                items.push(item);
            }
            trailing_comma = self.eat(',');
            if !trailing_comma {
                if !self.eat(close) {
                    return None;
                }
                break;
            }
        }
        Some(match open {
            '(' if items.len() == 1 && !trailing_comma => items.pop()?,
            '(' => Literal::Tuple(items),
            '[' => Literal::List(items),
            _ => Literal::Dict(pairs),
        })
    }
}

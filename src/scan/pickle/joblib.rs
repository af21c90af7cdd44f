//! joblib's arrays: `joblib.dump` writes each NumPy array as a wrapper object whose state gives
//! the array's shape and dtype, then the array's bytes right after the wrapper's BUILD, in the
//! middle of the pickle stream (`joblib/numpy_pickle.py`). The walk follows the wrapper's state
//! on the simulated stack to skip exactly those bytes, and trusts the count only when the walk
//! proves it: anything the loader could read differently makes the file `unsafe`.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use super::findings::Findings;
use super::input::Input;
use super::machine::{Machine, Step, walk_one};
use super::value::Value;

/// The layout of a NumPy dtype, from the type code its pickle passes to `numpy.dtype`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Dtype {
    /// NumPy's kind character: `f`, `i`, `u`, `b`, `c`, `m`, `M`, `S`, `U`, `V`, `O`.
    kind: u8,
    itemsize: u64,
    /// Offset of a BUILD that gave the dtype a state the walk cannot prove keeps this layout.
    changed_at: Option<u64>,
}

impl Dtype {
    /// Parses a type code such as `f8`, `<i4`, `U5` (five characters, 20 bytes) or `O8`.
    fn parse(code: &str) -> Option<Dtype> {
        let code = code.trim_start_matches(['<', '>', '|', '=']);
        let (&kind, size) = code.as_bytes().split_first()?;
        let size: u64 = std::str::from_utf8(size).ok()?.parse().ok()?;
        let itemsize = if kind == b'U' {
            size.checked_mul(4)?
        } else {
            size
        };
        Some(Dtype {
            kind,
            itemsize,
            changed_at: None,
        })
    }

    /// Whether a BUILD `state` leaves this layout as the type code gave it. NumPy's
    /// `arraydescr_setstate` (`numpy/core/src/multiarray/descriptor.c`) takes
    /// `(version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata])`:
    /// a subarray or fields change the layout, `elsize` becomes the element size of flexible
    /// dtypes (`S`, `U`, `V`), and `flags` is stored as given (a negative one plus 128), its
    /// bit 0 being `NPY_ITEM_HASOBJECT`: `float64` can be made to hold objects. Only the state
    /// `dtype.__reduce__` writes for the same code passes: no subarray or fields, `elsize` -1
    /// or the item size, flags without the object bit.
    fn kept_by(&self, state: &Value) -> bool {
        let Value::Tuple(items) = state else {
            return false;
        };
        let ([
            Value::Int(3 | 4),
            Value::Text(Some(_)),
            Value::None,
            Value::None,
            Value::None,
            Value::Int(elsize),
            Value::Int(_),
            Value::Int(flags),
        ]
        | [
            Value::Int(4),
            Value::Text(Some(_)),
            Value::None,
            Value::None,
            Value::None,
            Value::Int(elsize),
            Value::Int(_),
            Value::Int(flags),
            _,
        ]) = &items[..]
        else {
            return false;
        };
        let flexible = b"SUV".contains(&self.kind);
        let size_kept = u64::try_from(*elsize).is_ok_and(|size| size == self.itemsize)
            || (*elsize == -1 && !flexible);
        let flags = if (-128..0).contains(flags) {
            flags + 128
        } else {
            *flags
        };
        const NPY_ITEM_HASOBJECT: i64 = 0x01;
        size_kept && (0..=255).contains(&flags) && flags & NPY_ITEM_HASOBJECT == 0
    }
}

/// A wrapper's `numpy_array_alignment_bytes`: joblib reads a padding-length byte and that much
/// padding before the array whenever it is not `None` (`safe_get_numpy_array_alignment_bytes`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Alignment {
    /// Not set (joblib 1.1 and earlier), or `None`: no padding.
    #[default]
    Unset,
    /// An int (joblib 1.2 and later): a padding-length byte and the padding.
    Int,
    /// Something else the walk cannot tell from `None`.
    Unknown,
}

/// The entries of a dict that say how a joblib wrapper's array is laid out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct WrapperState {
    pub(super) shape: Option<Box<[u64]>>,
    dtype: Option<Rc<Cell<Dtype>>>,
    alignment: Alignment,
    /// `order` is `"C"` or `"F"`, as joblib writes it (it changes the layout, not the count).
    order: bool,
    /// A key that is not a text string the walk could read: it may set any entry.
    unreadable_key: bool,
}

impl WrapperState {
    pub(super) fn set(&mut self, key: &Value, value: &Value) {
        let Value::Text(Some(key)) = key else {
            self.unreadable_key = true;
            return;
        };
        match &**key {
            "shape" => {
                self.shape = match value {
                    Value::Shape(dims) => Some(dims.clone()),
                    Value::Tuple(items) if items.is_empty() => Some(Box::new([])),
                    _ => None,
                }
            }
            "dtype" => {
                self.dtype = match value {
                    Value::Dtype(dtype) => Some(Rc::clone(dtype)),
                    _ => None,
                }
            }
            "numpy_array_alignment_bytes" => {
                self.alignment = match value {
                    Value::Int(_) => Alignment::Int,
                    Value::None => Alignment::Unset,
                    _ => Alignment::Unknown,
                }
            }
            "order" => {
                self.order =
                    matches!(value, Value::Text(Some(order)) if matches!(&**order, "C" | "F"))
            }
            _ => {}
        }
    }

    /// Sets the entries of a flat `key, value, key, value…` list (DICT, SETITEMS).
    pub(super) fn set_pairs(&mut self, items: &[Value]) {
        for pair in items.chunks(2) {
            if let [key, value] = pair {
                self.set(key, value);
            }
        }
    }

    /// The bytes joblib reads after the wrapper's BUILD, when the state proves them; otherwise
    /// why not.
    fn array_bytes(&self) -> Result<ArrayBytes, String> {
        if self.unreadable_key {
            return Err(
                "a joblib array wrapper's state has a key the analysis cannot read, \
                        which may set its shape, dtype or alignment"
                    .into(),
            );
        }
        let (Some(shape), Some(dtype)) = (&self.shape, &self.dtype) else {
            return Err(
                "a joblib array wrapper's state does not give a shape and a dtype the \
                        analysis can read, so where its array data ends is unknown"
                    .into(),
            );
        };
        let dtype = dtype.get();
        if !b"biufcmMSUO".contains(&dtype.kind) {
            return Err(format!(
                "a joblib array of dtype kind '{}' may hold Python objects, so its size is \
                 unknown",
                char::from(dtype.kind)
            ));
        }
        if let Some(at) = dtype.changed_at {
            return Err(format!(
                "the dtype of a joblib array was given a state by the BUILD at byte {at} that \
                 may change its element size or make it hold objects, so where its array data \
                 ends is unknown"
            ));
        }
        if !self.order {
            return Err("a joblib array wrapper's order is not \"C\" or \"F\"".into());
        }
        if dtype.kind == b'O' {
            return Ok(ArrayBytes::Pickle);
        }
        let padded = match self.alignment {
            Alignment::Unset => false,
            Alignment::Int => true,
            Alignment::Unknown => {
                return Err(
                    "a joblib array wrapper's numpy_array_alignment_bytes is neither an \
                            int nor None, so whether padding precedes its data is unknown"
                        .into(),
                );
            }
        };
        let bytes = shape
            .iter()
            .try_fold(dtype.itemsize, |acc, &dim| acc.checked_mul(dim))
            .ok_or("a joblib array's size overflows 64 bits")?;
        Ok(ArrayBytes::Raw { padded, bytes })
    }
}

/// What follows a wrapper's BUILD in the stream.
enum ArrayBytes {
    /// An object array: a whole pickle (`pickle.dump(array, …)` in `write_array`).
    Pickle,
    /// The elements' raw bytes, after a padding-length byte and the padding when `padded`.
    Raw { padded: bool, bytes: u64 },
}

/// What a call of `callee` with `args` builds, as far as the analysis follows it: joblib's
/// array wrappers and NumPy dtypes, which say how many array bytes follow a wrapper.
pub(super) fn built(findings: &Findings<'_>, callee: &Value, args: &Value) -> Value {
    let Value::Global(index) = callee else {
        return Value::Other;
    };
    let name = &findings.globals[*index].display;
    let rules = &findings.table.joblib;
    if rules.array_wrappers.contains(name) {
        return Value::Wrapper(Rc::default());
    }
    if rules.dtype_constructors.contains(name)
        && let Value::Tuple(items) = args
        && let Some(Value::Text(Some(code))) = items.first()
        && let Some(dtype) = Dtype::parse(code)
    {
        return Value::Dtype(Rc::new(Cell::new(dtype)));
    }
    Value::Other
}

impl Machine<'_, '_> {
    /// BUILD on a dtype: records a state that may change its layout, for every alias.
    pub(super) fn build_dtype(&self, dtype: &Cell<Dtype>, state: &Value) {
        let mut layout = dtype.get();
        if !layout.kept_by(state) {
            layout.changed_at = Some(self.at);
            dtype.set(layout);
        }
    }

    /// Reads past the array joblib writes right after an array wrapper's BUILD
    /// (`joblib/numpy_pickle.py`, `NumpyArrayWrapper.read_array` and `read_mmap`, which read
    /// the same bytes): when `numpy_array_alignment_bytes` is not `None`, a byte giving the
    /// padding length and the padding; then `count * dtype.itemsize` raw bytes (their order,
    /// C or Fortran, changes their layout, not their count), or for dtypes that hold objects a
    /// whole pickle, which is analysed like the rest. A wrapper built a second time (through a
    /// memo alias) reads another array with the two states merged: never trusted.
    pub(super) fn joblib_array<R: Read>(
        &mut self,
        built: &Cell<bool>,
        state: &Value,
        input: &mut Input<R>,
    ) -> Result<(), Step> {
        if built.replace(true) {
            return Err(self.halt(
                "a joblib array wrapper is built a second time (through a memo alias): joblib \
                 reads another array with both states merged",
            ));
        }
        let Value::Dict(state) = state else {
            return Err(self.halt("a joblib array wrapper's state is not a dict"));
        };
        let array = state.borrow().array_bytes().map_err(|why| self.halt(why))?;
        match array {
            ArrayBytes::Pickle => walk_one(self.findings, input).map_err(Step::Stop),
            ArrayBytes::Raw { padded, bytes } => {
                if padded {
                    let padding = input.byte()?;
                    input.payload(u64::from(padding), 0)?;
                }
                input.payload(bytes, 0)?;
                Ok(())
            }
        }
    }
}

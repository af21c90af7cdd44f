//! joblib's arrays: `joblib.dump` writes each NumPy array as a wrapper object whose state gives
//! the array's shape and dtype, then the array's bytes right after the wrapper's BUILD, in the
//! middle of the pickle stream (`joblib/numpy_pickle.py`). The walk follows the wrapper's state
//! on the simulated stack to skip exactly those bytes.

use std::io::Read;

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
        Some(Dtype { kind, itemsize })
    }
}

/// The entries of a dict that say how a joblib wrapper's array is laid out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct WrapperState {
    pub(super) shape: Option<Box<[u64]>>,
    dtype: Option<Dtype>,
    /// `numpy_array_alignment_bytes` is set (joblib 1.2 and later): a padding-length byte and
    /// that much padding come before the array bytes.
    aligned: bool,
}

impl WrapperState {
    pub(super) fn set(&mut self, key: &Value, value: &Value) {
        let Value::Text(Some(key)) = key else {
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
                    Value::Dtype(dtype) => Some(*dtype),
                    _ => None,
                }
            }
            "numpy_array_alignment_bytes" => self.aligned = matches!(value, Value::Int(_)),
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
        return Value::Wrapper;
    }
    if rules.dtype_constructors.contains(name)
        && let Value::Tuple(items) = args
        && let Some(Value::Text(Some(code))) = items.first()
        && let Some(dtype) = Dtype::parse(code)
    {
        return Value::Dtype(dtype);
    }
    Value::Other
}

impl Machine<'_, '_> {
    /// Reads past the array joblib writes right after an array wrapper's BUILD
    /// (`joblib/numpy_pickle.py`, `NumpyArrayWrapper.write_array`): with alignment, a byte
    /// giving the padding length and the padding; then the elements' raw bytes (their order,
    /// C or Fortran, changes their layout, not their count), or for object dtypes a whole
    /// protocol-2 pickle, which is analysed like the rest.
    pub(super) fn joblib_array<R: Read>(
        &mut self,
        state: &Value,
        input: &mut Input<R>,
    ) -> Result<(), Step> {
        let Value::Dict(state) = state else {
            return Err(self.halt("a joblib array wrapper's state is not a dict"));
        };
        let (Some(shape), Some(dtype)) = (&state.shape, state.dtype) else {
            return Err(self.halt(
                "a joblib array wrapper's state does not give a shape and a dtype the analysis \
                 can read, so where its array data ends is unknown",
            ));
        };
        if dtype.kind == b'O' {
            return walk_one(self.findings, input).map_err(Step::Stop);
        }
        if !b"biufcmMSU".contains(&dtype.kind) {
            return Err(self.halt(format!(
                "a joblib array of dtype kind '{}' may hold Python objects, so its size is \
                 unknown",
                char::from(dtype.kind)
            )));
        }
        if state.aligned {
            let padding = input.byte()?;
            input.payload(u64::from(padding), 0)?;
        }
        let bytes = shape
            .iter()
            .try_fold(dtype.itemsize, |acc, &dim| acc.checked_mul(dim))
            .ok_or_else(|| self.error("a joblib array's size overflows 64 bits"))?;
        input.payload(bytes, 0)?;
        Ok(())
    }
}

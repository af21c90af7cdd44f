//! PyTorch tensor layouts read from the opcode walk of a `torch.save` zip's `data.pkl`, for
//! `verify`: never unpickled, only followed.
//!
//! `torch.save` (torch/serialization.py `_save`) pickles each storage as a persistent id
//! `('storage', <torch.FloatStorage…>, key, location, numel)` whose bytes are the zip member
//! `<archive>/data/<key>`, and each tensor as a call of `torch._utils._rebuild_tensor_v2`
//! with `(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
//! (torch/_tensor.py `_reduce_ex_internal`); parameters wrap that in
//! `torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks)`. A state dict
//! names them with SETITEM(S) on an `OrderedDict`.

use std::rc::Rc;

use super::findings::Findings;
use super::value::Value;

/// A storage a persistent id names: its class's last name (`FloatStorage`) and its key.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StorageRef {
    pub(super) class: String,
    pub(super) key: String,
}

/// One tensor's layout as `_rebuild_tensor_v2` receives it; `name` is the key it was stored
/// under in a dict (the innermost one), when any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorchTensor {
    pub name: Option<String>,
    pub storage_class: String,
    pub storage_key: String,
    /// In elements of the storage's type.
    pub offset: u64,
    pub size: Vec<u64>,
    pub stride: Vec<u64>,
}

/// The value BINPERSID pushes for the persistent id `pid`: a storage reference when it is
/// shaped as `torch.save` writes one.
pub(super) fn persistent(findings: &Findings<'_>, pid: &Value) -> Value {
    if let Value::Tuple(items) = pid
        && let [
            Value::Text(Some(kind)),
            Value::Global(class),
            Value::Text(Some(key)),
            ..,
        ] = &items[..]
        && &**kind == "storage"
    {
        let display = &findings.globals[*class].display;
        let class = display.rsplit('.').next().unwrap_or(display).to_string();
        return Value::Storage(Rc::new(StorageRef {
            class,
            key: key.to_string(),
        }));
    }
    Value::Other
}

/// The value a call of `callee` with `args` builds, when it rebuilds a tensor: a
/// `Value::Tensor` indexing the layout recorded in `findings`.
pub(super) fn rebuilt(findings: &mut Findings<'_>, callee: &Value, args: &Value) -> Option<Value> {
    let Value::Global(index) = callee else {
        return None;
    };
    let Value::Tuple(items) = args else {
        return None;
    };
    let cap = findings.tensor_cap?;
    match findings.globals[*index].display.as_str() {
        "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
            if findings.tensors.len() >= cap {
                findings.reason(format!(
                    "more than {cap} tensors (max-tensors in policy/verify.toml)"
                ));
                return None;
            }
            let [
                Value::Storage(storage),
                Value::Int(offset),
                size,
                stride,
                ..,
            ] = &items[..]
            else {
                return None;
            };
            let (Value::Shape(size), Value::Shape(stride)) = (size, stride) else {
                return None;
            };
            findings.tensors.push(TorchTensor {
                name: None,
                storage_class: storage.class.clone(),
                storage_key: storage.key.clone(),
                offset: u64::try_from(*offset).ok()?,
                size: size.to_vec(),
                stride: stride.to_vec(),
            });
            Some(Value::Tensor(findings.tensors.len() - 1))
        }
        "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
            match items.first() {
                Some(tensor @ Value::Tensor(_)) => Some(tensor.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// SETITEM(S): a tensor stored under a text key takes that name (the first one given).
pub(super) fn named(findings: &mut Findings<'_>, key: &Value, value: &Value) {
    if let (Value::Text(Some(key)), Value::Tensor(index)) = (key, value)
        && let Some(tensor) = findings.tensors.get_mut(*index)
        && tensor.name.is_none()
    {
        tensor.name = Some(key.to_string());
    }
}

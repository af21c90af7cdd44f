//! Pickle streams and the files that carry them, written opcode by opcode from CPython's
//! `pickletools` descriptions, NumPy's `.npy` format and PyTorch's `torch.save` layouts.
//! Nothing here runs Python.

use crate::fixtures;

/// A pickle under construction. Each method appends one opcode with its argument.
#[derive(Default)]
pub struct Pickle(Vec<u8>);

impl Pickle {
    /// Protocol 0: no PROTO opcode.
    pub fn protocol0() -> Self {
        Self::default()
    }

    /// PROTO n.
    pub fn protocol(n: u8) -> Self {
        Self(vec![0x80, n])
    }

    /// GLOBAL: `c module\nname\n`.
    pub fn global(mut self, module: &str, name: &str) -> Self {
        self.0.push(b'c');
        self.0
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
        self
    }

    /// BINUNICODE: a text string with a 4-byte length.
    pub fn text(mut self, text: &str) -> Self {
        self.0.push(b'X');
        self.0.extend_from_slice(&(text.len() as u32).to_le_bytes());
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    /// SHORT_BINUNICODE (protocol 4).
    pub fn short_text(mut self, text: &str) -> Self {
        self.0.push(0x8c);
        self.0.push(text.len() as u8);
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    /// UNICODE (protocol 0): raw text up to a newline.
    pub fn text_line(mut self, text: &str) -> Self {
        self.0.push(b'V');
        self.0.extend_from_slice(text.as_bytes());
        self.0.push(b'\n');
        self
    }

    /// BININT1, BININT2 or BININT, whichever fits.
    pub fn int(mut self, n: u32) -> Self {
        if let Ok(byte) = u8::try_from(n) {
            self.0.extend_from_slice(&[b'K', byte]);
        } else if let Ok(short) = u16::try_from(n) {
            self.0.push(b'M');
            self.0.extend_from_slice(&short.to_le_bytes());
        } else {
            self.0.push(b'J');
            self.0.extend_from_slice(&n.to_le_bytes());
        }
        self
    }

    /// An integer as CPython writes it: BININT1/BININT2/BININT when it fits 31 bits, LONG1
    /// (little-endian two's complement, as few bytes as keep the sign) otherwise.
    pub fn long(self, n: u64) -> Self {
        match u32::try_from(n) {
            Ok(small) if small <= i32::MAX as u32 => self.int(small),
            _ => {
                let mut bytes = n.to_le_bytes().to_vec();
                while bytes.len() > 1 && bytes[bytes.len() - 1] == 0 {
                    bytes.pop();
                }
                if bytes[bytes.len() - 1] & 0x80 != 0 {
                    bytes.push(0);
                }
                self.op(0x8a).raw(&[bytes.len() as u8]).raw(&bytes)
            }
        }
    }

    /// BINPUT.
    pub fn put(mut self, key: u8) -> Self {
        self.0.extend_from_slice(&[b'q', key]);
        self
    }

    /// BINGET.
    pub fn get(mut self, key: u8) -> Self {
        self.0.extend_from_slice(&[b'h', key]);
        self
    }

    /// Bytes spelled out (an opcode with an argument the builder has no method for).
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// Opcodes without an argument, spelled as their one byte.
    pub fn op(mut self, opcode: u8) -> Self {
        self.0.push(opcode);
        self
    }

    pub fn mark(self) -> Self {
        self.op(b'(')
    }
    pub fn tuple(self) -> Self {
        self.op(b't')
    }
    pub fn tuple1(self) -> Self {
        self.op(0x85)
    }
    pub fn tuple2(self) -> Self {
        self.op(0x86)
    }
    pub fn tuple3(self) -> Self {
        self.op(0x87)
    }
    pub fn pop(self) -> Self {
        self.op(b'0')
    }
    pub fn newtrue(self) -> Self {
        self.op(0x88)
    }
    pub fn empty_tuple(self) -> Self {
        self.op(b')')
    }
    pub fn empty_dict(self) -> Self {
        self.op(b'}')
    }
    pub fn reduce(self) -> Self {
        self.op(b'R')
    }
    pub fn build(self) -> Self {
        self.op(b'b')
    }
    pub fn setitem(self) -> Self {
        self.op(b's')
    }
    pub fn stack_global(self) -> Self {
        self.op(0x93)
    }
    pub fn memoize(self) -> Self {
        self.op(0x94)
    }
    pub fn binpersid(self) -> Self {
        self.op(b'Q')
    }
    pub fn newfalse(self) -> Self {
        self.op(0x89)
    }
    pub fn none(self) -> Self {
        self.op(b'N')
    }

    /// Bytes as protocol 2 spells them: `_codecs.encode(text, "latin1")`.
    pub fn latin1_bytes(self, bytes: &[u8]) -> Self {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        self.global("_codecs", "encode")
            .text(&text)
            .text("latin1")
            .tuple2()
            .reduce()
    }

    /// `numpy.dtype(code, False, True)` and its BUILD state (version 3, little-endian, no
    /// fields, itemsize and alignment -1, no flags), as `dtype.__reduce__` gives them.
    pub fn numpy_dtype(self, code: &str) -> Self {
        self.numpy_dtype_with_state(code, 0xffff_ffff, 0)
    }

    /// `numpy.dtype(code, False, True)` with a BUILD state of `elsize` and `flags` (as BININT
    /// bits: `0xffff_ffff` is -1). NumPy's `arraydescr_setstate` sets the element size of
    /// flexible dtypes from `elsize` and stores `flags` as given.
    pub fn numpy_dtype_with_state(self, code: &str, elsize: u32, flags: u32) -> Self {
        self.global("numpy", "dtype")
            .text(code)
            .newfalse()
            .newtrue()
            .tuple3()
            .reduce()
            .mark()
            .int(3)
            .text("<")
            .none()
            .none()
            .none()
            .int(elsize)
            .int(0xffff_ffff)
            .int(flags)
            .tuple()
            .build()
    }

    /// The bytes so far, without STOP: a fragment for another stream.
    pub fn bytes(self) -> Vec<u8> {
        self.0
    }

    /// STOP, and the finished bytes.
    pub fn stop(mut self) -> Vec<u8> {
        self.0.push(b'.');
        self.0
    }
}

/// `os.system("echo pwned")` as pickled on Linux (`posix system`) at protocol 0.
pub fn posix_system_protocol0() -> Vec<u8> {
    Pickle::protocol0()
        .global("posix", "system")
        .mark()
        .text_line("echo pwned")
        .tuple()
        .reduce()
        .stop()
}

/// The same at protocol 2.
pub fn posix_system_protocol2() -> Vec<u8> {
    Pickle::protocol(2)
        .global("posix", "system")
        .put(0)
        .text("echo pwned")
        .tuple1()
        .reduce()
        .stop()
}

/// `importlib.import_module("os")`.
pub fn import_module() -> Vec<u8> {
    Pickle::protocol(2)
        .global("importlib", "import_module")
        .text("os")
        .tuple1()
        .reduce()
        .stop()
}

/// The builtins reached as an attribute of a NumPy module, then `getattr(builtins, "eval")`
/// called on code: the gadget deny-list scanners miss.
pub fn numpy_builtins_gadget() -> Vec<u8> {
    Pickle::protocol(2)
        .global("numpy.testing._private.utils", "__builtins__")
        .put(0)
        .pop()
        .global("builtins", "getattr")
        .get(0)
        .text("eval")
        .tuple2()
        .reduce()
        .text("__import__('os').system('id')")
        .tuple1()
        .reduce()
        .stop()
}

/// Protocol 4 `STACK_GLOBAL` whose module and name come back from the memo: `builtins` and
/// `exec` are memoized inside a harmless tuple, popped, and fetched with BINGET.
pub fn stack_global_from_memo() -> Vec<u8> {
    Pickle::protocol(4)
        .short_text("builtins")
        .memoize()
        .short_text("exec")
        .memoize()
        .tuple2()
        .pop()
        .get(0)
        .get(1)
        .stack_global()
        .short_text("import os")
        .tuple1()
        .reduce()
        .stop()
}

/// `OrderedDict({"weight": _rebuild_tensor_v2(storage, 0, (2,), (1,), False, OrderedDict())})`
/// as `torch.save` writes `data.pkl` (protocol 2, storages as persistent ids).
pub fn torch_state_dict() -> Vec<u8> {
    Pickle::protocol(2)
        .global("collections", "OrderedDict")
        .put(0)
        .empty_tuple()
        .reduce()
        .put(1)
        .text("weight")
        .put(2)
        .global("torch._utils", "_rebuild_tensor_v2")
        .put(3)
        .mark()
        .mark()
        .text("storage")
        .put(4)
        .global("torch", "FloatStorage")
        .put(5)
        .text("0")
        .put(6)
        .text("cpu")
        .put(7)
        .int(2)
        .tuple()
        .put(8)
        .binpersid()
        .int(0)
        .int(2)
        .tuple1()
        .int(1)
        .tuple1()
        .newfalse()
        .get(0)
        .empty_tuple()
        .reduce()
        .tuple()
        .reduce()
        .put(9)
        .setitem()
        .stop()
}

/// A float64 NumPy array of two elements as `pickle.dumps(array, protocol=2)` writes it.
pub fn numpy_array() -> Vec<u8> {
    let data: Vec<u8> = [1.5f64, -2.0]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    Pickle::protocol(2)
        .global("numpy.core.multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .int(0)
        .tuple1()
        .latin1_bytes(b"b")
        .tuple3()
        .reduce()
        .mark()
        .int(1)
        .int(2)
        .tuple1()
        .numpy_dtype("f8")
        .newfalse()
        .latin1_bytes(&data)
        .tuple()
        .build()
        .stop()
}

/// An object-dtype `.npy` whose data pickle carries `os.system`.
pub fn object_npy() -> Vec<u8> {
    fixtures::npy("'|O'", "(1,)", &posix_system_protocol2())
}

/// A `torch.save` zip whose pickle member is `pickle_name`, with one float storage and any
/// `extra` members.
pub fn torch_zip(pickle_name: &str, pickle: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let storage: Vec<u8> = [0.25f32, 0.5]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    let mut members: Vec<(&str, &[u8])> = vec![
        (pickle_name, pickle),
        ("archive/byteorder", b"little"),
        ("archive/data/0", &storage),
        ("archive/version", b"3\n"),
        ("archive/.data/serialization_id", b"1234567890"),
    ];
    members.extend_from_slice(extra);
    fixtures::zip(&members, false)
}

/// A legacy (pre-1.6) `torch.save` file: magic number, protocol version 1001, system info,
/// the object `main`, the storage keys, then raw storage bytes.
pub fn torch_legacy(main: &[u8]) -> Vec<u8> {
    // LONG1 of 10 bytes: torch's MAGIC_NUMBER 0x1950a86a20f9469cfc6c, little-endian.
    let mut out = Pickle::protocol(2)
        .raw(b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")
        .stop();
    out.extend(Pickle::protocol(2).int(1001).stop());
    out.extend(
        Pickle::protocol(2)
            .empty_dict()
            .text("little_endian")
            .newtrue()
            .setitem()
            .stop(),
    );
    out.extend_from_slice(main);
    out.extend(Pickle::protocol(2).op(b']').text("0").op(b'a').stop()); // EMPTY_LIST, APPEND
    // Storage "0": an 8-byte element count, then two floats.
    out.extend_from_slice(&2u64.to_le_bytes());
    out.extend([0.25f32, 0.5].iter().flat_map(|f| f.to_le_bytes()));
    out
}

/// A joblib `NumpyArrayWrapper` built from a state dict whose SETITEMS entries `entries`
/// writes, up to and including the wrapper's BUILD (protocol 4, no frame; memo 4 is the
/// state dict). The caller writes what joblib reads after it.
pub fn joblib_wrapper(entries: impl FnOnce(Pickle) -> Pickle) -> Pickle {
    let state = Pickle::protocol(4)
        .short_text("joblib.numpy_pickle")
        .memoize()
        .short_text("NumpyArrayWrapper")
        .memoize()
        .stack_global()
        .memoize()
        .empty_tuple()
        .op(0x81) // NEWOBJ
        .memoize()
        .empty_dict()
        .memoize()
        .mark();
    entries(state).op(b'u').build() // SETITEMS, BUILD
}

/// What `joblib.dump(array, f)` writes (joblib 1.2 and later, protocol 4), up to the end of
/// the array data; the caller finishes the stream. The pickle holds a `NumpyArrayWrapper`
/// whose state gives the array's subclass, shape, order and dtype; joblib closes the frame
/// after the wrapper's BUILD, writes a padding-length byte and padding up to a 16-byte
/// boundary, then `data`: the elements' bytes, or a whole pickle for object dtypes.
pub fn joblib_array(dtype: &str, shape: &[u64], data: &[u8]) -> Pickle {
    let mut state = Pickle::default()
        .short_text("joblib.numpy_pickle")
        .memoize()
        .short_text("NumpyArrayWrapper")
        .memoize()
        .stack_global()
        .memoize()
        .empty_tuple()
        .op(0x81) // NEWOBJ
        .memoize()
        .empty_dict()
        .memoize()
        .mark()
        .short_text("subclass")
        .short_text("numpy")
        .short_text("ndarray")
        .stack_global()
        .short_text("shape");
    state = shape
        .iter()
        .fold(state.mark(), |p, &dim| p.long(dim))
        .tuple();
    let state = state
        .short_text("order")
        .short_text("C")
        .short_text("dtype")
        .numpy_dtype(dtype)
        .short_text("allow_mmap")
        .newtrue()
        .short_text("numpy_array_alignment_bytes")
        .int(16)
        .op(b'u') // SETITEMS
        .build();
    let mut out = vec![0x80, 4, 0x95];
    out.extend_from_slice(&(state.0.len() as u64).to_le_bytes());
    out.extend_from_slice(&state.0);
    if !dtype.starts_with('O') {
        let padding = 16 - (out.len() + 1) % 16;
        out.push(padding as u8);
        out.resize(out.len() + padding, 0xff);
    }
    out.extend_from_slice(data);
    Pickle(out)
}

#!/bin/sh
# Peak RSS, wall time and CPU time of `dh-mlmodel scan --json` on each memory case of docs/robustness.md
# (issue 17: each must stay within 256 MiB and 10 s). Builds the release binary, writes each
# hostile input into its own tree under a temporary directory (about 200 MiB in all), scans it
# with /usr/bin/time -v and prints one line per case. Exits 1 when a case is over a bound.
#
#   benches/hostile-memory.sh
#
# The inputs are the shapes of the findings, built here from the formats' specifications; the
# regression tests in tests/integration/hostile_inputs.rs and src/scan/pickle/tests.rs build
# smaller versions of the same shapes.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$HOME/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH
MAX_RSS_KIB=$((256 * 1024))
MAX_SECONDS=10

(cd "$top" && cargo build --release --locked --quiet)
bin="$top/target/release/dh-mlmodel"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Every input is written by Python (Debian's python3, standard library only): byte-exact,
# and quick for inputs of tens of megabytes.
python3 - "$work" <<'EOF'
import gzip, os, struct, sys, zlib

work = sys.argv[1]

def tree(name, file, data):
    os.makedirs(os.path.join(work, name), exist_ok=True)
    with open(os.path.join(work, name, file), "wb") as f:
        f.write(data)

# Download variable expansion: lines each referencing X a thousand times (shell, 488 KB;
# Python, 483 KB), and 30 000 doublings (503 KB).
shell = '#!/bin/sh\nX="https://h.org/m.bin "\n'
python = 'X = "https://h.org/m.bin "\n'
doubling = "#!/bin/sh\nA=https://h.org/a.bin\n"
for i in range(240):
    shell += "U%d=%s\n" % (i, "$X" * 1000)
for i in range(120):
    python += "U%d = %s\n" % (i, " + ".join(["X"] * 1000))
for i in range(30000):
    doubling += "A=$A$A\nB%d=$A\n" % i
tree("expansion-shell", "get.sh", (shell + "wget $U1\n").encode())
# The doubling shape: each value twice the last, every one stored under a new name.
tree("expansion-doubling", "get.sh", (doubling + "wget $B1\n").encode())
tree("expansion-python", "dl.py", (python + "urlretrieve(U1)\n").encode())

# safetensors (u64 header length, JSON header): a 40 MB header whose one array holds 20 Mi
# zeros, and a 22 MB one of 3 Mi tiny objects.
def safetensors(header):
    return struct.pack("<Q", len(header)) + header
array = b'{"t":{"dtype":"F32","shape":[' + b"0," * (20 << 20) + b'0],"data_offsets":[0,0]}}'
tree("safetensors-array", "a.safetensors", safetensors(array))
values = b'{"t":{"dtype":"F32","shape":[],"data_offsets":[0,0]' + b',"x":{}' * (3 << 20) + b"}"
tree("safetensors-values", "v.safetensors", safetensors(values))

# ONNX (protobuf, onnx.proto): ModelProto{ir_version 8, producer, graph{name, initializer
# TensorProto{packed dims: 24 Mi varints of 1, data_type 1, name}}, opset_import{version 13}}.
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload
tensor = field(1, b"\x01" * (24 << 20)) + b"\x10\x01" + field(8, b"w")
graph = field(2, b"g") + field(5, tensor)
model = b"\x08\x08" + field(2, b"fixture") + field(7, graph) + field(8, b"\x10\x0d")
tree("onnx-packed-dims", "m.onnx", model)

# Pickle (protocol 4): a tuple of four Nones, then MEMOIZE (0x94) 3.9 million times, STOP.
tree("pickle-memo-tuple", "m.pkl", b"\x80\x04(NNNNt" + b"\x94" * 3_900_000 + b".")

# A gzip of 2 GiB of zeros (2 MB), and a zip holding one deflated member of 1 GiB of zeros.
def zeros_deflated(size, wbits):
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    chunks = [compressor.compress(block) for _ in range(size >> 20)]
    chunks.append(compressor.flush())
    return b"".join(chunks)
tree("gzip-bomb", "zeros.gz", zeros_deflated(2 << 30, 31))
# zip (APPNOTE 4.3): local header, raw deflate data, central directory, end record.
size = 1 << 30
data = zeros_deflated(size, -15)
crc = 0
block = bytes(1 << 20)
for _ in range(size >> 20):
    crc = zlib.crc32(block, crc)
name = b"zeros.bin"
local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name
central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                      len(name), 0, 0, 0, 0, 0o100644 << 16, 0) + name
offset = len(local) + len(data)
end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0)
tree("zip-bomb", "zeros.zip", local + data + central + end)
EOF

status=0
printf '%-20s %12s %14s %8s %8s %s\n' case input peak-RSS wall CPU verdict
for dir in "$work"/*/; do
	case=$(basename "$dir")
	input=$(cat "$dir"/* | wc -c)
	/usr/bin/time -v "$bin" scan --json "$dir" >/dev/null 2>"$work/$case.time" || {
		echo "$case: dh-mlmodel scan failed:" >&2
		cat "$work/$case.time" >&2
		status=1
		continue
	}
	kib=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/$case.time")
	wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$case.time")
	# m:ss.ss or h:mm:ss to seconds.
	seconds=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
	cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/$case.time")
	verdict=ok
	if [ "$kib" -gt "$MAX_RSS_KIB" ] || awk -v s="$seconds" -v m="$MAX_SECONDS" 'BEGIN { exit !(s > m) }'; then
		verdict="OVER (bounds: 256 MiB, $MAX_SECONDS s)"
		status=1
	fi
	printf '%-20s %10s B %10s KiB %7ss %7ss %s\n' "$case" "$input" "$kib" "$seconds" "$cpu" "$verdict"
done
exit $status

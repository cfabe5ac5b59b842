"""The hardware image: what each core's memories hold, plus a manifest.  One ``.sfi`` file.

An :class:`Image` is the only thing that crosses from the compiler to the backends.  The emulator
interprets its words, the RTL is initialised with them, the runtime streams them over the host
link.  Every per-core table is a 1-D NumPy structured array with a fixed dtype (below); the file
layout is documented field by field in ``docs/image-format.md``.

File layout (little-endian)::

    magic  b"SFIMAGE\\0"            8 bytes
    version u16, flags u16          format version (FORMAT_VERSION), reserved flags (0)
    n_sections u32
    header_crc u32                  CRC32 of the 16 bytes above
    then n_sections times:
      name_len u16, name utf-8      e.g. "manifest", "host/routes", "core/3/synapses"
      nbytes u64
      crc u32                       CRC32 of the payload
      payload                       JSON (manifest) or the raw bytes of the array

Array sections carry no dtype in the file: the dtype is fixed by the section's table name, so a
corrupted file can never make the reader allocate or interpret arbitrary types.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from spikefab.arch.image_learning import (LEARN_PRODUCT_DTYPE, LEARN_PROFILE_DTYPE,
                                          LEARN_REWARD, LEARN_RNG_DTYPE, LEARN_STATIC,
                                          LEARN_SYNAPSE_DTYPE, LEARN_TABLES, LEARN_VARS,
                                          LEARN_X_DTYPE, LEARN_Y_DTYPE)   # on-chip learning
from spikefab.arch.errors import ImageError

__all__ = [
    "FORMAT_VERSION",
    "PROFILE_DTYPE",
    "NEURON_DTYPE",
    "STATE_DTYPE",
    "AXON_DTYPE",
    "SYNAPSE_DTYPE",
    "ROUTE_PTR_DTYPE",
    "ROUTE_DTYPE",
    "CORE_TABLES",
    "LEARN_TABLES",
    "LEARN_PROFILE_DTYPE",
    "LEARN_PRODUCT_DTYPE",
    "LEARN_SYNAPSE_DTYPE",
    "LEARN_X_DTYPE",
    "LEARN_Y_DTYPE",
    "LEARN_RNG_DTYPE",
    "LEARN_VARS",
    "LEARN_STATIC",
    "LEARN_REWARD",
    "CoreImage",
    "Image",
    "load_image",
    "ImageWriter",
    "write_image",
]

FORMAT_VERSION = 1
MAGIC = b"SFIMAGE\0"

#: Shared neuron profile (Loihi "compartment profile"): parameters one population slice shares.
PROFILE_DTYPE = np.dtype([
    ("du", "<u2"),            # current decay, 12 bit
    ("dv", "<u2"),            # voltage decay, 12 bit
    ("vth", "<i4"),           # threshold mantissa, 17 bit unsigned; compared as vth << 6
    ("reset_mode", "u1"),     # 0 zero, 1 subtract
    ("refractory", "u1"),     # steps the voltage is frozen after a spike (0 = off)
    ("theta_decay", "<u2"),   # adaptive-threshold decay, 12 bit
    ("theta_inc", "<i4"),     # adaptive-threshold increment per spike (0 = off), v units
])
#: Per-neuron parameters.
NEURON_DTYPE = np.dtype([
    ("profile", "u1"),        # index into the core's profile table
    ("bias_exp", "i1"),       # signed; left shift if >= 0
    ("bias_mant", "<i2"),     # 13 bit signed
])
#: Per-neuron state (initial values in an image; current values in a running core).
STATE_DTYPE = np.dtype([
    ("u", "<i4"),
    ("v", "<i4"),
    ("theta", "<i4"),
    ("ref", "u1"),
])
#: Input-axon table: axon id -> its run of synapse entries.
AXON_DTYPE = np.dtype([("start", "<u4"), ("count", "<u4")])
#: Synapse memory entry.
SYNAPSE_DTYPE = np.dtype([
    ("neuron", "<u2"),        # target neuron index in this core
    ("weight", "<i2"),        # effective weight, -256..255 (Lava clip + truncate already applied)
    ("delay", "u1"),          # 0..max_delay
    ("acc_class", "u1"),      # which dendritic accumulator (weight-exponent class)
])
#: Route pointer per neuron (or per host input channel): its run of route entries.
ROUTE_PTR_DTYPE = np.dtype([("start", "<u4"), ("count", "<u4")])
#: Route entry = one AER destination (see spikefab.arch.aer).
ROUTE_DTYPE = np.dtype([
    ("host", "u1"),           # 1: deliver to the host port (output spike), axon = output channel
    ("slot", "u1"),           # core slot at the destination router (0..cores_per_router-1)
    ("chiplet", "<u2"),       # destination chiplet index (cy * chiplets_x + cx)
    ("x", "<u2"),             # destination router x within the chiplet
    ("y", "<u2"),             # destination router y within the chiplet
    ("axon", "<u4"),          # destination input axon (or output channel when host = 1)
])

#: The per-core tables, in file order, with their dtypes.
CORE_TABLES: dict[str, np.dtype] = {
    "acc_exps": np.dtype("i1"),
    "profiles": PROFILE_DTYPE,
    "neurons": NEURON_DTYPE,
    "state": STATE_DTYPE,
    "axons": AXON_DTYPE,
    "synapses": SYNAPSE_DTYPE,
    "route_ptr": ROUTE_PTR_DTYPE,
    "routes": ROUTE_DTYPE,
}
HOST_TABLES: dict[str, np.dtype] = {"route_ptr": ROUTE_PTR_DTYPE, "routes": ROUTE_DTYPE}

def _learn_default(name: str):
    return field(default_factory=lambda: np.zeros(0, LEARN_TABLES[name]))


@dataclass
class CoreImage:
    """The memory contents of one core.

    ``acc_exps[c]`` is the weight exponent applied to dendritic accumulator class ``c`` when the
    neuron reads its input (floor shift of the class's sum, Lava Dense semantics).
    """

    chiplet: int
    x: int
    y: int
    slot: int
    acc_exps: np.ndarray
    profiles: np.ndarray
    neurons: np.ndarray
    state: np.ndarray
    axons: np.ndarray
    synapses: np.ndarray
    route_ptr: np.ndarray
    routes: np.ndarray
    learn_profiles: np.ndarray = _learn_default("learn_profiles")
    learn_products: np.ndarray = _learn_default("learn_products")
    learn_synapses: np.ndarray = _learn_default("learn_synapses")
    learn_x: np.ndarray = _learn_default("learn_x")
    learn_y: np.ndarray = _learn_default("learn_y")
    learn_rng: np.ndarray = _learn_default("learn_rng")

    def __post_init__(self) -> None:
        for name, dtype in (CORE_TABLES | LEARN_TABLES).items():
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))

    @property
    def plastic(self) -> bool:
        """Whether this core runs the learning engine (has learning profiles)."""
        return len(self.learn_profiles) > 0

    @property
    def n_neurons(self) -> int:
        return len(self.neurons)

    @property
    def address(self) -> tuple[int, int, int, int]:
        return (self.chiplet, self.x, self.y, self.slot)

    def tables(self) -> dict[str, np.ndarray]:
        """Tables written to the file: the learning ones only on plastic cores."""
        names = list(CORE_TABLES) + (list(LEARN_TABLES) if self.plastic else [])
        return {name: getattr(self, name) for name in names}


@dataclass
class Image:
    """A compiled network for one target: per-core memories, host routes and a manifest.

    Manifest keys (JSON): ``target`` (name), ``inputs`` {name: {"size", "channel_base"}},
    ``outputs`` {name: {"size", "channel_base"}}, ``populations`` {name: {"size", "slices":
    [{"core", "offset", "count", "start"}]}} (``core`` indexes :attr:`cores`, ``offset`` is the
    first neuron slot in that core, ``start`` the first population index), ``options`` (compile
    options, free-form).  Host input channel ``channel_base + i`` uses host route pointer entry of
    the same index; an output spike arrives at the host as channel ``channel_base + i``.
    """

    target: str
    cores: list[CoreImage]
    host_route_ptr: np.ndarray
    host_routes: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.host_route_ptr = np.ascontiguousarray(self.host_route_ptr, dtype=ROUTE_PTR_DTYPE)
        self.host_routes = np.ascontiguousarray(self.host_routes, dtype=ROUTE_DTYPE)
        self.manifest.setdefault("target", self.target)

    # ------------------------------------------------------------------ convenience
    @property
    def inputs(self) -> dict[str, dict[str, int]]:
        return self.manifest.get("inputs", {})

    @property
    def outputs(self) -> dict[str, dict[str, int]]:
        return self.manifest.get("outputs", {})

    @property
    def populations(self) -> dict[str, dict[str, Any]]:
        return self.manifest.get("populations", {})

    def core_index(self, chiplet: int, x: int, y: int, slot: int) -> int:
        """Index in :attr:`cores` of the core at an address, or -1."""
        for i, c in enumerate(self.cores):
            if (c.chiplet, c.x, c.y, c.slot) == (chiplet, x, y, slot):
                return i
        return -1

    # ------------------------------------------------------------------ bytes
    def sections(self) -> list[tuple[str, bytes]]:
        """(name, payload) of every section, in file order."""
        manifest = dict(self.manifest)
        manifest["target"] = self.target
        manifest["cores"] = [[c.chiplet, c.x, c.y, c.slot] for c in self.cores]
        out = [("manifest", json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())]
        out.append(("host/route_ptr", self.host_route_ptr.tobytes()))
        out.append(("host/routes", self.host_routes.tobytes()))
        for i, core in enumerate(self.cores):
            for name, arr in core.tables().items():
                out.append((f"core/{i}/{name}", arr.tobytes()))
        return out

    def to_bytes(self) -> bytes:
        sections = self.sections()
        head = MAGIC + struct.pack("<HHI", FORMAT_VERSION, 0, len(sections))
        parts = [head, struct.pack("<I", zlib.crc32(head))]
        for name, payload in sections:
            nb = name.encode()
            parts.append(struct.pack("<H", len(nb)) + nb)
            parts.append(struct.pack("<QI", len(payload), zlib.crc32(payload)))
            parts.append(payload)
        return b"".join(parts)

    def crc32(self) -> int:
        """CRC32 of the whole serialized image: the identity a board reports back."""
        return zlib.crc32(self.to_bytes())

    def save(self, path: str | Path) -> Path:
        """Write the ``.sfi`` file; an image that would be refused on load is refused here."""
        return write_image(path, self)            # streamed, section by section

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str = "<bytes>",
                   expect_target: str | None = None) -> "Image":
        return _decode(bytes(data), where, expect_target)


#: The structural check :func:`load_image` runs on every image it decodes,
#: :func:`spikefab.arch.validate.check_image`.  The checker depends on this module, never this
#: module on the checker: ``spikefab.arch`` (whose ``__init__`` runs before any of its modules
#: can be used) installs it here.
image_check: Callable[..., None] | None = None


def load_image(path: str | Path, *, expect_target: str | None = None) -> Image:
    """Read an ``.sfi`` file; any problem is an :class:`~spikefab.errors.ImageError`."""
    if not isinstance(path, (str, os.PathLike)):
        raise ImageError(f"image must be an Image or the path of an .sfi file, not "
                         f"{type(path).__name__}")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"image file {str(path)!r} cannot be read: {exc.strerror}",
                         where=str(path)) from None
    return _decode(data, str(path), expect_target)


class _Reader:
    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where = data, 0, where

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ImageError(
                f"{self.where}: truncated in {what}: needs {n} bytes at offset {self.pos}, "
                f"{max(len(self.data) - self.pos, 0)} available", where=what)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def _decode(data: bytes, where: str, expect_target: str | None) -> Image:
    r = _Reader(data, where)
    head = r.take(16, "header")
    if head[:8] != MAGIC:
        raise ImageError(f"{where}: not a spikefab image (bad magic {head[:8]!r})", where="header")
    version, flags, n_sections = struct.unpack("<HHI", head[8:])
    (crc,) = struct.unpack("<I", r.take(4, "header"))
    if crc != zlib.crc32(head):
        raise ImageError(f"{where}: header CRC mismatch", where="header")
    if version != FORMAT_VERSION:
        raise ImageError(f"{where}: image format version must be {FORMAT_VERSION}, not {version}",
                         where="header")
    if flags != 0:
        raise ImageError(f"{where}: header flags must be 0, not {flags}", where="header")
    sections: dict[str, bytes] = {}
    for k in range(n_sections):
        (name_len,) = struct.unpack("<H", r.take(2, f"section {k} name length"))
        try:
            name = r.take(name_len, f"section {k} name").decode("utf-8")
        except UnicodeDecodeError:
            raise ImageError(f"{where}: section {k} name is not UTF-8", where=f"section {k}") from None
        nbytes, crc = struct.unpack("<QI", r.take(12, f"section {name!r} header"))
        payload = r.take(nbytes, f"section {name!r}")
        if zlib.crc32(payload) != crc:
            raise ImageError(f"{where}: CRC mismatch in section {name!r}", where=name)
        if name in sections:
            raise ImageError(f"{where}: duplicate section {name!r}", where=name)
        sections[name] = payload
    if r.pos != len(data):
        raise ImageError(f"{where}: {len(data) - r.pos} trailing bytes after the last section",
                         where="trailer")
    if "manifest" not in sections:
        raise ImageError(f"{where}: missing section 'manifest'", where="manifest")
    try:
        manifest = json.loads(sections["manifest"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageError(f"{where}: section 'manifest' is not valid JSON ({exc})",
                         where="manifest") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("target"), str):
        raise ImageError(f"{where}: section 'manifest' must be an object with a 'target' string",
                         where="manifest")
    target = manifest["target"]
    if expect_target is not None and target != expect_target:
        raise ImageError(f"{where}: image is for target {target!r}, expected {expect_target!r}",
                         where="manifest")
    addresses = manifest.pop("cores", None)
    if not isinstance(addresses, list) or not all(
            isinstance(a, list) and len(a) == 4 and all(isinstance(v, int) and v >= 0 for v in a)
            for a in addresses):
        raise ImageError(f"{where}: manifest 'cores' must be a list of [chiplet, x, y, slot]",
                         where="manifest")

    def table(name: str, dtype: np.dtype) -> np.ndarray:
        if name not in sections:
            raise ImageError(f"{where}: missing section {name!r}", where=name)
        payload = sections.pop(name)
        if len(payload) % dtype.itemsize:
            raise ImageError(f"{where}: section {name!r} has {len(payload)} bytes, not a multiple "
                             f"of its {dtype.itemsize}-byte entries", where=name)
        return np.frombuffer(payload, dtype=dtype).copy()

    host_ptr = table("host/route_ptr", ROUTE_PTR_DTYPE)
    host_routes = table("host/routes", ROUTE_DTYPE)
    cores = []
    for i, (chiplet, x, y, slot) in enumerate(addresses):
        t = {name: table(f"core/{i}/{name}", dtype) for name, dtype in CORE_TABLES.items()}
        t.update({name: table(f"core/{i}/{name}", dtype) for name, dtype in LEARN_TABLES.items()
                  if f"core/{i}/{name}" in sections})      # optional: plastic cores only
        cores.append(CoreImage(chiplet=chiplet, x=x, y=y, slot=slot, **t))
    del sections["manifest"]
    if sections:
        raise ImageError(f"{where}: unexpected section {sorted(sections)[0]!r}",
                         where=sorted(sections)[0])
    image = Image(target=target, cores=cores, host_route_ptr=host_ptr, host_routes=host_routes,
                  manifest=manifest)
    if image_check is None:
        raise ImageError(f"{where}: no image checker installed (import spikefab.arch)", where=where)
    image_check(image, where=where)
    return image


# ---------------------------------------------------------------------- partial reads (scale-out)
# An MPI rank reads only the sections of the cores it owns (docs/scale-out.md).  The section
# headers already form the index a reader needs: each names its section and gives its payload
# size, so a reader walks the headers and seeks over the payloads it does not want; every section
# it does read is checked against its own CRC.  Memory is then the manifest, the host tables and
# the owned cores, not the whole file.


@dataclass
class ImageIndex:
    """Where every section of an ``.sfi`` file lies, and its manifest, without the core tables.

    ``addresses[i]`` is core ``i``'s (chiplet, x, y, slot); ``sizes[i][table]`` its table's entry
    count (from the section length), so that ranks can balance work before reading any payload.
    """

    path: Path
    target: str
    manifest: dict[str, Any]
    addresses: list[tuple[int, int, int, int]]
    sections: dict[str, tuple[int, int, int]]       #: name -> (file offset, nbytes, crc)

    def size(self, core: int, table: str) -> int:
        """Entries of ``core/<core>/<table>`` (from its byte length)."""
        return self.sections[f"core/{core}/{table}"][1] // CORE_TABLES[table].itemsize

    def _read(self, fh, name: str, dtype: np.dtype | None = None):
        if name not in self.sections:
            raise ImageError(f"{self.path}: missing section {name!r}", where=name)
        off, nbytes, crc = self.sections[name]
        fh.seek(off)
        payload = fh.read(nbytes)
        if len(payload) != nbytes or zlib.crc32(payload) != crc:
            raise ImageError(f"{self.path}: CRC mismatch in section {name!r}", where=name)
        if dtype is None:
            return payload
        if nbytes % dtype.itemsize:
            raise ImageError(f"{self.path}: section {name!r} has {nbytes} bytes, not a multiple "
                             f"of its {dtype.itemsize}-byte entries", where=name)
        return np.frombuffer(payload, dtype=dtype).copy()

    def read_host(self) -> tuple[np.ndarray, np.ndarray]:
        """(host route pointers, host routes)."""
        with open(self.path, "rb") as fh:
            return (self._read(fh, "host/route_ptr", ROUTE_PTR_DTYPE),
                    self._read(fh, "host/routes", ROUTE_DTYPE))

    def read_cores(self, cores) -> dict[int, CoreImage]:
        """The :class:`CoreImage` of each index in ``cores`` (each section CRC-checked)."""
        out = {}
        with open(self.path, "rb") as fh:
            for i in sorted(int(c) for c in cores):
                if not 0 <= i < len(self.addresses):
                    raise ImageError(f"{self.path}: core {i} is not in the image "
                                     f"({len(self.addresses)} cores)", where=f"core/{i}")
                t = {name: self._read(fh, f"core/{i}/{name}", dt)
                     for name, dt in CORE_TABLES.items()}
                ch, x, y, s = self.addresses[i]
                out[i] = CoreImage(chiplet=ch, x=x, y=y, slot=s, **t)
        return out


def index_image(path: str | Path) -> ImageIndex:
    """Walk the section headers of an ``.sfi`` file (seeking over payloads); read the manifest."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ImageError(f"image file {str(path)!r} cannot be read: {exc.strerror}",
                         where=str(path)) from None
    with fh:
        size = path.stat().st_size
        head = fh.read(16)
        if len(head) < 16 or head[:8] != MAGIC:
            raise ImageError(f"{path}: not a spikefab image (bad magic {head[:8]!r})",
                             where="header")
        version, flags, n_sections = struct.unpack("<HHI", head[8:])
        crc_bytes = fh.read(4)
        if len(crc_bytes) < 4 or struct.unpack("<I", crc_bytes)[0] != zlib.crc32(head):
            raise ImageError(f"{path}: header CRC mismatch", where="header")
        if version != FORMAT_VERSION or flags != 0:
            raise ImageError(f"{path}: image format version must be {FORMAT_VERSION} with flags "
                             f"0, not {version} / {flags}", where="header")
        sections: dict[str, tuple[int, int, int]] = {}
        for k in range(n_sections):
            raw = fh.read(2)
            name = fh.read(struct.unpack("<H", raw)[0]) if len(raw) == 2 else b""
            hdr = fh.read(12)
            if len(hdr) < 12:
                raise ImageError(f"{path}: truncated in section {k} header", where=f"section {k}")
            nbytes, crc = struct.unpack("<QI", hdr)
            off = fh.tell()
            if off + nbytes > size:
                raise ImageError(f"{path}: truncated in section {k}: needs {nbytes} bytes at "
                                 f"offset {off}, {size - off} available", where=f"section {k}")
            try:
                text = name.decode("utf-8")
            except UnicodeDecodeError:
                raise ImageError(f"{path}: section {k} name is not UTF-8",
                                 where=f"section {k}") from None
            if text in sections:                  # as load_image: one payload per name
                raise ImageError(f"{path}: duplicate section {text!r}", where=text)
            sections[text] = (off, nbytes, crc)
            fh.seek(off + nbytes)
        if fh.tell() != size:
            raise ImageError(f"{path}: {size - fh.tell()} trailing bytes after the last section",
                             where="trailer")
    index = ImageIndex(path=path, target="", manifest={}, addresses=[], sections=sections)
    with open(path, "rb") as fh:
        raw = index._read(fh, "manifest")
    try:
        manifest = json.loads(raw.decode("utf-8"))
        addresses = [tuple(int(v) for v in a) for a in manifest.pop("cores")]
        target = str(manifest["target"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ImageError(f"{path}: section 'manifest' must be a JSON object with 'target' and "
                         f"'cores' ({exc})", where="manifest") from None
    index.target, index.manifest, index.addresses = target, manifest, addresses
    return index


# ------------------------------------------------------------------ streamed writing (scale-out)
# A wafer image is larger than the tables the compiler holds once more: ``to_bytes`` makes a copy
# of every table and then a second one when it joins them.  :class:`ImageWriter` writes the same
# bytes section by section, straight from the arrays (zero-copy byte views), one core at a time,
# and patches the header's section count at the end, so writing costs no memory beyond the tables
# themselves, and a producer may hand over cores chiplet by chiplet and drop each after it.


def _payload(arr: np.ndarray) -> memoryview:
    """The raw bytes of a table without copying it (the same bytes ``arr.tobytes()`` gives)."""
    arr = np.ascontiguousarray(arr)
    return memoryview(arr.reshape(-1).view(np.uint8))


class ImageWriter:
    """Write an ``.sfi`` file one core at a time; the file equals :meth:`Image.to_bytes`.

    ``addresses`` (every core's (chiplet, x, y, slot), in core order) and the manifest go first,
    as in the format; then :meth:`add_core` takes the cores in that order; :meth:`close` (or the
    end of a ``with`` block without an exception) writes the header's section count and CRC.
    The writer checks only the order and addresses of the cores it is given; callers check the
    image (:func:`write_image` does, as :meth:`Image.save` always did).
    """

    def __init__(self, path: str | Path, target: str, manifest: dict[str, Any],
                 addresses, host_route_ptr: np.ndarray, host_routes: np.ndarray) -> None:
        self.path = Path(path)
        self.addresses = [tuple(int(v) for v in a) for a in addresses]
        self.n_sections, self.next_core = 0, 0
        m = dict(manifest)
        m["target"] = target
        m["cores"] = [list(a) for a in self.addresses]
        try:
            self._fh = open(self.path, "wb")
        except OSError as exc:
            raise ImageError(f"image file {str(self.path)!r} cannot be written: {exc.strerror}",
                             where=str(self.path)) from None
        self._fh.write(bytes(20))                  # header, written by close()
        self._section("manifest", json.dumps(m, sort_keys=True, separators=(",", ":")).encode())
        self._section("host/route_ptr",
                      _payload(np.asarray(host_route_ptr, dtype=ROUTE_PTR_DTYPE)))
        self._section("host/routes", _payload(np.asarray(host_routes, dtype=ROUTE_DTYPE)))

    def _section(self, name: str, payload) -> None:
        nb = name.encode()
        self._fh.write(struct.pack("<H", len(nb)) + nb)
        self._fh.write(struct.pack("<QI", len(payload), zlib.crc32(payload)))
        self._fh.write(payload)
        self.n_sections += 1

    def add_core(self, core: CoreImage) -> None:
        """Write the next core's tables (core ``next_core`` of ``addresses``)."""
        i = self.next_core
        if i >= len(self.addresses) or core.address != self.addresses[i]:
            want = self.addresses[i] if i < len(self.addresses) else "no more cores"
            raise ImageError(f"{self.path}: core {i} given at {core.address}, the manifest "
                             f"expects {want}", where=f"core/{i}")
        for name, arr in core.tables().items():
            self._section(f"core/{i}/{name}", _payload(arr))
        self.next_core += 1

    def close(self) -> Path:
        """Finish the file: every core must have been written."""
        if self.next_core != len(self.addresses):
            self._fh.close()
            raise ImageError(f"{self.path}: {self.next_core} of {len(self.addresses)} cores "
                             f"written", where=f"core/{self.next_core}")
        head = MAGIC + struct.pack("<HHI", FORMAT_VERSION, 0, self.n_sections)
        self._fh.seek(0)
        self._fh.write(head + struct.pack("<I", zlib.crc32(head)))
        self._fh.close()
        return self.path

    def __enter__(self) -> "ImageWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._fh.close()


def write_image(path: str | Path, image: Image) -> Path:
    """Check ``image`` and stream it to ``path`` (same bytes as ``to_bytes``, no whole copy)."""
    path = Path(path)
    if image_check is None:
        raise ImageError(f"{path}: no image checker installed (import spikefab.arch)",
                         where=str(path))
    image_check(image, where=str(path))
    with ImageWriter(path, image.target, image.manifest, [c.address for c in image.cores],
                     image.host_route_ptr, image.host_routes) as w:
        for core in image.cores:
            w.add_core(core)
    return path

"""``alterPixels["rectangle", "l=, t=, r=, b=", "solid", "v="]``: blank burned-in regions.

Only this function decodes pixel data. Compressed images are written back uncompressed
(Explicit VR Little Endian). Coordinates are pixels: left/top inclusive, right/bottom exclusive,
clipped to the image.
"""
from __future__ import annotations

import re

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

_PARAM = re.compile(r"\s*([a-zA-Z]+)\s*=\s*(-?\d+)\s*")


class PixelEditError(ValueError):
    """A bad alterPixels request or an image that cannot be edited."""


def _params(text: str, keys: set[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in str(text).split(","):
        m = _PARAM.fullmatch(part)
        if not m:
            raise PixelEditError("parameters are written 'k=integer, ...'")
        out[m.group(1).lower()] = int(m.group(2))
    missing = keys - out.keys()
    if missing:
        raise PixelEditError(f"missing parameter(s): {', '.join(sorted(missing))}")
    return out


def blank_rectangle(ds: Dataset, shape: str, region: str, fill: str, value: str) -> str:
    """Fill the rectangle in every frame; returns a description of the edit."""
    if str(shape).lower() != "rectangle":
        raise PixelEditError(f"unsupported shape {shape!r} (only 'rectangle')")
    if str(fill).lower() != "solid":
        raise PixelEditError(f"unsupported fill {fill!r} (only 'solid')")
    box = _params(region, {"l", "t", "r", "b"})
    v = _params(value, {"v"})["v"]
    if "PixelData" not in ds:
        raise PixelEditError("dataset has no pixel data")
    try:
        arr = ds.pixel_array.copy()
    except Exception as exc:  # decoders raise many types
        raise PixelEditError(f"cannot decode pixel data ({type(exc).__name__})") from None
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    rows, cols = int(ds.Rows), int(ds.Columns)
    l, r = max(0, min(box["l"], cols)), max(0, min(box["r"], cols))
    t, b = max(0, min(box["t"], rows)), max(0, min(box["b"], rows))
    if l >= r or t >= b:
        return "rectangle outside the image: nothing changed"
    info = arr.dtype.type
    import numpy as np
    lim = np.iinfo(arr.dtype) if arr.dtype.kind in "iu" else None
    fillv = info(max(lim.min, min(lim.max, v))) if lim is not None else info(v)
    if frames > 1:
        arr[:, t:b, l:r, ...] = fillv
    else:
        arr[t:b, l:r, ...] = fillv
    if samples > 1 and getattr(ds, "PlanarConfiguration", 0) == 1:
        # pixel_array is always sample-interleaved; write back interleaved and say so
        ds.PlanarConfiguration = 0
    compressed = ds.file_meta.TransferSyntaxUID.is_compressed if getattr(ds, "file_meta", None) is not None \
        and "TransferSyntaxUID" in ds.file_meta else False
    if compressed:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if "PhotometricInterpretation" in ds and str(ds.PhotometricInterpretation).startswith("YBR"):
            ds.PhotometricInterpretation = "RGB"
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    ds["PixelData"].VR = "OW" if int(ds.BitsAllocated) > 8 else "OB"
    return f"rectangle l={l}, t={t}, r={r}, b={b} set to {int(fillv)}" + (" (decompressed)" if compressed else "")

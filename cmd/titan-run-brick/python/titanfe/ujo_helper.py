"""Conversions between Python values and UJO (titanfe.ujo_helper).

python_to_ujo follows titanfe, in this order: Ujo objects unchanged, None
-> UJO_VARIANT_NONE, bool -> UjoBool, int -> UjoInt64 (OverflowError
outside int64), float -> UjoFloat64, str -> UjoStringUTF8, datetime ->
UjoTimestamp (milliseconds, time zone dropped), Sequence (list, tuple,
bytes, ...) or set -> UjoList, Mapping -> UjoMap, anything else
NotImplementedError. The work is done in C (titan-run-brick's _titan).
"""
import _titan
from ujotypes import (
    UjoBool,
    UjoFloat16,
    UjoFloat32,
    UjoFloat64,
    UjoInt8,
    UjoInt16,
    UjoInt32,
    UjoInt64,
    UjoStringC,
    UjoStringUTF8,
    UjoUInt8,
    UjoUInt16,
    UjoUInt32,
    UjoUInt64,
    ujo_to_python,  # noqa: F401  (re-exported)
)

python_to_ujo = _titan.python_to_ujo
py_to_ujo_bytes = _titan.py_to_ujo_bytes  # a Mapping or Sequence -> UJO document bytes
ujo_bytes_to_py = _titan.ujo_bytes_to_py  # UJO document bytes -> plain Python

UJO_TYPES = {
    "int8": UjoInt8,
    "int16": UjoInt16,
    "int32": UjoInt32,
    "int64": UjoInt64,
    "uint8": UjoUInt8,
    "uint16": UjoUInt16,
    "uint32": UjoUInt32,
    "uint64": UjoUInt64,
    "float16": UjoFloat16,
    "float32": UjoFloat32,
    "float64": UjoFloat64,
    "string": UjoStringUTF8,
    "cstring": UjoStringC,
    "bool": lambda x: UjoBool(str(x).lower() == "true"),
}


def get_ujo_value(value, type_name):
    """value as the Ujo type named type_name (int8 ... float64, string,
    cstring, bool), as titanfe's constants in mapping rules."""
    if "int" in type_name:
        value = int(value)
    if "float" in type_name:
        value = float(value)
    return UJO_TYPES[type_name](value)


__all__ = ["python_to_ujo", "ujo_to_python", "py_to_ujo_bytes", "ujo_bytes_to_py", "get_ujo_value", "UJO_TYPES"]

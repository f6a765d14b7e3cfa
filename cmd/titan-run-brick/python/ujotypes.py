"""ujotypes — UJO values for titan bricks.

A drop-in for the classes of wobe-systems' ``ujotypes`` package that
titanfe bricks use, implemented in C inside titan-run-brick (the built-in
``_titan`` module); this file only adds the Python conveniences and the
abstract base classes.

Value semantics (as ujotypes):

* scalars — UjoNone / UJO_VARIANT_NONE, UjoBool, UjoInt8 ... UjoInt64,
  UjoUInt8 ... UjoUInt64, UjoFloat16/32/64, UjoStringC, UjoStringUTF8,
  UjoTimestamp — are immutable; ``.value`` is the Python value; two Ujo
  objects are equal when their classes are the same and their values are
  equal (``UjoInt64(1) != UjoInt8(1)``, ``UjoInt64(1) != 1``); they are
  hashable, so they can be map keys.
* ``UjoList`` is a MutableSequence of Ujo objects, ``UjoMap`` a
  MutableMapping from Ujo keys to Ujo values. Keys are typed:
  ``UjoStringUTF8("a")`` and ``UjoStringC("a")`` are different keys.
  titanfe writes every str as UTF-8, so plain ``str`` keys look up
  ``UjoStringUTF8`` keys: ``payload["name"]`` is
  ``payload[UjoStringUTF8("name")]``. Plain Python values given to a
  container (``m["n"] = 5``, ``l.append("x")``) are converted with
  titanfe's python_to_ujo (int -> UjoInt64, float -> UjoFloat64, str ->
  UjoStringUTF8, ...); ujotypes itself only takes Ujo objects there.
* ``.value`` of a container (and ``ujo_to_python``) is the plain Python
  list / dict, recursively.
* ``type`` / ``subtype`` and the class attributes ``variant_type`` /
  ``variant_subtype`` are the UJO wire type codes (UJOT_VARIANT_TYPE_*).

Not supported: ujotypes' variant handles (``variant_handle=``, ``.handle``).
"""
import collections.abc as _abc
import copy as _copy
import sys as _sys

import _titan
from _titan import (  # noqa: F401  (re-exported)
    UJO_VARIANT_NONE,
    UjoBase,
    UjoBool,
    UjoFloat16,
    UjoFloat32,
    UjoFloat64,
    UjoInt8,
    UjoInt16,
    UjoInt32,
    UjoInt64,
    UjoNone,
    UjoStringC,
    UjoStringUTF8,
    UjoTimestamp,
    UjoUInt8,
    UjoUInt16,
    UjoUInt32,
    UjoUInt64,
    read_buffer,
    ujo_to_python,
    write_buffer,
)

# UJO wire type codes (the values of .type / variant_type).
UJOT_VARIANT_TYPE_FLOAT64 = 0x01
UJOT_VARIANT_TYPE_FLOAT32 = 0x02
UJOT_VARIANT_TYPE_FLOAT16 = 0x03
UJOT_VARIANT_TYPE_STRING = 0x04
UJOT_VARIANT_TYPE_INT64 = 0x05
UJOT_VARIANT_TYPE_INT32 = 0x06
UJOT_VARIANT_TYPE_INT16 = 0x07
UJOT_VARIANT_TYPE_INT8 = 0x08
UJOT_VARIANT_TYPE_UINT64 = 0x09
UJOT_VARIANT_TYPE_UINT32 = 0x0A
UJOT_VARIANT_TYPE_UINT16 = 0x0B
UJOT_VARIANT_TYPE_UINT8 = 0x0C
UJOT_VARIANT_TYPE_BOOL = 0x0D
UJOT_VARIANT_TYPE_NONE = 0x0F
UJOT_VARIANT_TYPE_TIMESTAMP = 0x13
UJOT_VARIANT_TYPE_LIST = 0x30
UJOT_VARIANT_TYPE_MAP = 0x31
UJOT_STRING_TYPE_C = 0
UJOT_STRING_TYPE_UTF8 = 1


class UjoList(_titan.UjoListBase, _abc.MutableSequence):
    """A list of Ujo objects (ujotypes.UjoList)."""

    __slots__ = ()

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(repr(item) for item in self)})"

    def __copy__(self):
        return self.copy(deepcopy=False)

    def __deepcopy__(self, memo):
        return self.copy(deepcopy=True)

    def copy(self, deepcopy=False):
        """A new UjoList with the same items (deepcopy: copies of them)."""
        cpy = type(self)()
        for item in self:
            cpy.append(_copy.deepcopy(item) if deepcopy else item)
        return cpy

    def get_variant(self, index, default=UjoNone, constraint=None):
        """The item at index if it exists and is a `constraint`, else default
        (UJO_VARIANT_NONE when no default is given)."""
        if index < 0:
            index += len(self)
        if 0 <= index < len(self):
            item = self[index]
            if constraint is None or isinstance(item, constraint):
                return item
        if default is UjoNone:
            return UJO_VARIANT_NONE
        return default

    def get_value(self, index, default=None, constraint=None):
        """Like get_variant, but the .value of the item."""
        result = self.get_variant(index, default, constraint)
        return result.value if isinstance(result, UjoBase) else result

    def set_value(self, index, value, value_type):
        """Replace the item at index by value_type(value) (or value itself
        when it is a Ujo object)."""
        self[index] = value if isinstance(value, UjoBase) else value_type(value)


class UjoMap(_titan.UjoMapBase, _abc.MutableMapping):
    """A map from Ujo keys to Ujo values (ujotypes.UjoMap)."""

    __slots__ = ()

    def __repr__(self):
        items = ", ".join(f"{key!r}={value!r}" for key, value in self.items())
        return f"{type(self).__name__}({items})"

    def __copy__(self):
        return self.copy(deepcopy=False)

    def __deepcopy__(self, memo):
        return self.copy(deepcopy=True)

    def copy(self, deepcopy=False):
        """A new UjoMap with the same items (deepcopy: copies of the values)."""
        cpy = type(self)()
        for key, item in self.items():
            cpy[key] = _copy.deepcopy(item) if deepcopy else item
        return cpy

    def _find(self, key, key_type):
        if isinstance(key, UjoBase):
            return self.get(key)
        if key_type is not None:
            return self.get(key_type(key))
        found = self.get(key)  # str -> UjoStringUTF8 (titanfe's keys)
        if found is None and isinstance(key, str):
            found = self.get(UjoStringC(key))
        return found

    def get_variant(self, key, default=UjoNone, constraint=None, key_type=None):
        """The value for key if present and a `constraint`, else default
        (UJO_VARIANT_NONE when no default is given). A plain key is made a
        key_type; without key_type a str key matches a UTF-8 or a C string
        key (ujotypes' default key_type is UjoStringC)."""
        item = self._find(key, key_type)
        if item is not None and (constraint is None or isinstance(item, constraint)):
            return item
        if default is UjoNone:
            return UJO_VARIANT_NONE
        return default

    def get_value(self, key, default=None, constraint=None, key_type=None):
        """Like get_variant, but the .value of the item."""
        result = self.get_variant(key, default, constraint, key_type)
        return result.value if isinstance(result, UjoBase) else result

    def set_value(self, key, value, value_type, key_type=None):
        """Set key (made a key_type unless it is a Ujo object; default: str
        keys become UjoStringUTF8) to value_type(value) (or value itself when
        it is a Ujo object)."""
        if not isinstance(key, UjoBase) and key_type is not None:
            key = key_type(key)
        self[key] = value if isinstance(value, UjoBase) else value_type(value)


UjoContainer = (UjoList, UjoMap)

_titan._register(UjoList, UjoMap)

# ujotypes-py keeps these in ujotypes.variants (titanfe imports read_buffer
# and write_buffer from there): make "import ujotypes.variants" find us.
_sys.modules.setdefault(__name__ + ".variants", _sys.modules[__name__])

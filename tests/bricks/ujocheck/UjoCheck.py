"""Checks the ujotypes value semantics a brick sees and returns
{"checks": {name: true|"failure"}, "out": <the input, modified with Ujo objects>}.

Expected input:
{"key": "text", "n": 5, "f": 1.5, "flag": true, "list": [1, 2, 3],
 "nested": {"a": {"b": "deep"}}, "i8": {"@type": "int8", "@value": 7},
 "cs": {"@type": "cstring", "@value": "c"}}
"""
import collections.abc
import copy
from datetime import datetime

import ujotypes
from titanfe.brick import BrickBase
from titanfe.ujo_helper import python_to_ujo, ujo_to_python
from ujotypes import (
    UJO_VARIANT_NONE,
    UjoBase,
    UjoFloat16,
    UjoFloat32,
    UjoFloat64,
    UjoInt8,
    UjoInt64,
    UjoList,
    UjoMap,
    UjoStringC,
    UjoStringUTF8,
    UjoTimestamp,
    UjoUInt64,
)


def raises(exc, fn):
    try:
        fn()
    except exc:
        return True
    return False


class Brick(BrickBase):
    def process(self, input, port):
        checks = {}

        def check(name, fn):
            try:
                checks[name] = True if fn() else "false"
            except Exception as error:  # pylint: disable=broad-except
                checks[name] = f"{type(error).__name__}: {error}"

        check("is_map", lambda: isinstance(input, UjoMap) and isinstance(input, UjoBase))
        check("is_mutable_mapping", lambda: isinstance(input, collections.abc.MutableMapping))
        check("str_key_value", lambda: input["key"].value == "text")
        check("str_key_class", lambda: type(input["key"]) is UjoStringUTF8)
        check("ujo_key", lambda: input[UjoStringUTF8("key")] == UjoStringUTF8("text"))
        check("typed_keys", lambda: UjoStringC("key") not in input and UjoStringUTF8("key") in input)
        check("contains", lambda: "key" in input and "missing" not in input)
        check("keyerror", lambda: raises(KeyError, lambda: input["missing"]))
        check("int64_eq", lambda: input["n"] == UjoInt64(5))
        check("class_matters", lambda: input["n"] != UjoInt8(5) and input["n"] != 5)
        check("int8", lambda: type(input["i8"]) is UjoInt8 and input["i8"] == UjoInt8(7))
        check("type_code", lambda: input["i8"].type == ujotypes.UJOT_VARIANT_TYPE_INT8 == UjoInt8.variant_type)
        check("cstring", lambda: type(input["cs"]) is UjoStringC and input["cs"].value == "c")
        check("float", lambda: isinstance(input["f"], UjoFloat64) and input["f"].value == 1.5)
        check("bool", lambda: input["flag"].value is True)
        check("list", lambda: isinstance(input["list"], UjoList) and len(input["list"]) == 3)
        check("list_index", lambda: input["list"][1] == UjoInt64(2) and input["list"][-1].value == 3)
        check("list_value", lambda: input["list"].value == [1, 2, 3])
        check("list_slice", lambda: [x.value for x in input["list"][1:]] == [2, 3])
        check("list_is_sequence", lambda: isinstance(input["list"], collections.abc.MutableSequence))
        check("nested", lambda: input["nested"]["a"]["b"].value == "deep")
        check("value", lambda: input.value == ujo_to_python(input) and input.value["nested"] == {"a": {"b": "deep"}})
        check("key_order", lambda: [k.value for k in input][:3] == ["key", "n", "f"])
        check("items", lambda: dict((k.value, v) for k, v in input.items())["n"] == UjoInt64(5))
        check("get_value", lambda: input.get_value("key") == "text" and input.get_value("nope", 9) == 9)
        check("hashable", lambda: {UjoInt64(1): "x"}[UjoInt64(1)] == "x")
        check("str_repr", lambda: str(input["n"]) == "5" and repr(input["n"]) == "UjoInt64(5)")
        check("none", lambda: UJO_VARIANT_NONE.value is None and ujotypes.UjoNone() == UJO_VARIANT_NONE)
        check("int8_range", lambda: raises(OverflowError, lambda: UjoInt8(300)))
        check("int_type", lambda: raises(TypeError, lambda: UjoInt64("5")))
        check("deepcopy", lambda: copy.deepcopy(input) == input and copy.deepcopy(input) is not input)
        check("python_to_ujo", lambda: python_to_ujo({"a": [1, True]}) == UjoMap({"a": [1, True]}))
        check("bytes_roundtrip", lambda: ujotypes.read_buffer(ujotypes.write_buffer(input)) == input)
        check("variants_module", lambda: __import__("ujotypes.variants").read_buffer is ujotypes.read_buffer)

        out = input
        out["added"] = UjoInt8(-3)
        out["list"].append(UjoFloat32(0.5))
        out[UjoStringC("ckey")] = UjoUInt64(2**64 - 1)
        del out["f"]
        out["ts"] = UjoTimestamp(datetime(2020, 1, 2, 3, 4, 5, 678901))
        out["f16"] = UjoFloat16(24.135)
        out["plain"] = 7  # converted: UjoInt64
        return {"checks": checks, "out": out}

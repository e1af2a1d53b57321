import math

import pytest

from drivers.codec import decode, encode


def test_int16_negative_temperature_is_twos_complement():
    regs = encode(-3.25, "int16", scale=0.01)
    assert regs == [0x10000 - 325]
    assert decode(regs, "int16", scale=0.01) == -3.25


def test_uint16_with_scale_and_offset_round_trips():
    regs = encode(812.0, "uint16", scale=2.0, offset=-100.0)
    assert regs == [456]
    assert decode(regs, "uint16", scale=2.0, offset=-100.0) == 812.0


@pytest.mark.parametrize(
    ("order", "expected"), [("big", [0x42F6, 0xE979]), ("little", [0xE979, 0x42F6])]
)
def test_float32_word_order(order, expected):
    regs = encode(123.456, "float32", word_order=order)
    assert regs == expected
    assert math.isclose(decode(regs, "float32", word_order=order), 123.456, rel_tol=1e-7)
    other = "little" if order == "big" else "big"
    assert not math.isclose(decode(regs, "float32", word_order=other), 123.456, rel_tol=1e-3)


def test_out_of_range_raises_or_saturates():
    with pytest.raises(ValueError, match="outside int16"):
        encode(400.0, "int16", scale=0.01)
    assert encode(400.0, "int16", scale=0.01, saturate=True) == [32767]
    assert encode(-5.0, "uint16", saturate=True) == [0]


def test_float32_out_of_range_raises_or_saturates():
    with pytest.raises(ValueError, match="outside the float32 range"):
        encode(100.0, "float32", scale=1e-40)
    regs = encode(-100.0, "float32", scale=1e-40, saturate=True)
    assert decode(regs, "float32") == pytest.approx(-3.4028234663852886e38)

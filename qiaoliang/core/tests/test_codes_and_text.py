"""National codes and Chinese text normalisation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from qiaoliang.core.audit import mask_value
from qiaoliang.core.codes import mask_mobile, normalize_mobile, normalize_uscc, uscc_check_character
from qiaoliang.core.text import normalize_text, pinyin_initials, pinyin_key

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "zj-org-registry-uscc"


def test_uscc_worked_examples_from_the_standard():
    assert normalize_uscc("91512081MA62K0260E") == "91512081MA62K0260E"
    assert uscc_check_character("91350100M000100Y4") == "3"
    with pytest.raises(ValidationError) as excinfo:
        normalize_uscc("91350100M000100Y4Z")
    assert excinfo.value.code == "uscc_checksum"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9.13E+17", "uscc_excel"),
        ("513000000000000000", "uscc_checksum"),
        ("91330182736861540", "uscc_length"),
        ("", "uscc_empty"),
        ("91330182O36861540P", "uscc_format"),
    ],
)
def test_uscc_rejects_real_world_garbage_with_a_reason(value, code):
    with pytest.raises(ValidationError) as excinfo:
        normalize_uscc(value)
    assert excinfo.value.code == code


def test_uscc_accepts_lower_case_and_spaces():
    assert normalize_uscc(" 91330182736861540p ") == "91330182736861540P"


@pytest.mark.skipif(not EXAMPLES.exists(), reason="shared reference data not present")
def test_uscc_agrees_with_the_labelled_zhejiang_registry():
    with (EXAMPLES / "uscc_validation_examples.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 2000
    for row in rows:
        try:
            normalize_uscc(row["uscc"])
            valid = True
        except ValidationError:
            valid = False
        assert valid == (row["valid_gb32100"] == "True"), row


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_any_body_with_its_check_character_is_valid(body):
    code = body + uscc_check_character(body)
    if body[0] in "123456789ANY":  # registration department codes that stdnum accepts
        try:
            assert normalize_uscc(code) == code
        except ValidationError as exc:
            assert exc.code == "uscc_format"  # other structural rules (organisation category)


@pytest.mark.parametrize("value", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "13812345678.0"])
def test_mobile_numbers_normalise_to_eleven_digits(value):
    assert normalize_mobile(value) == "13812345678"


@pytest.mark.parametrize("value", ["12345678901", "1381234567", "010-12345678", "abc"])
def test_bad_mobile_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        normalize_mobile(value)


def test_mobile_masking():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_value("data", {"mobile": "13812345678", "password": "x", "note": "call 13812345678"}) == {
        "mobile": "138****5678",
        "password": "***",
        "note": "call 138****5678",
    }


def test_normalize_text_folds_traditional_full_width_and_html():
    assert normalize_text("<p>張家口軟件 ＡＢＣ　公司</p>") == "张家口软件 abc 公司"


def test_pinyin_keys_sort_and_find_names():
    assert pinyin_initials("北京企业联合会") == "bjqylhh"
    assert pinyin_key("張家口") == "zhangjiakou"
    assert pinyin_initials("ABC科技") == "abckj"

"""shequ.idcard: GB 11643-1999 check digits, validation reasons, parsing, masking."""
from datetime import date

import pytest

from shequ import idcard

TODAY = date(2026, 11, 1)

# The worked examples of domain-facts §1.3 (made-up or the standard's own examples).
EXAMPLES = [
    ("110105199003071239", "男", date(1990, 3, 7)),
    ("11010519491231002X", "女", date(1949, 12, 31)),
    ("440524188001010014", "男", date(1880, 1, 1)),
    ("34052419800101001X", "男", date(1980, 1, 1)),
]


def test_weights_are_two_to_the_power_of_position_mod_11():
    # positions counted from the right, 18 down to 2 (the check digit is position 1)
    assert idcard.WEIGHTS == tuple(2 ** (i - 1) % 11 for i in range(18, 1, -1))


def test_check_code_table_matches_the_standard():
    assert [idcard.CHECK_CODES[y] for y in range(11)] == list("10X98765432")


@pytest.mark.parametrize("number,sex,born", EXAMPLES)
def test_worked_examples_are_valid_and_parse(number, sex, born):
    assert idcard.check_digit(number[:17]) == number[17]
    assert idcard.is_valid(number, today=TODAY)
    p = idcard.parse(number)
    assert (p.address_code, p.birth_date, p.sex) == (number[:6], born, sex)


def test_weighted_sum_of_first_example_is_190():
    assert sum(int(a) * w for a, w in zip("11010519900307123", idcard.WEIGHTS)) == 190


def test_whole_number_sum_including_check_is_1_mod_11():
    for number, _, _ in EXAMPLES:
        digits = [10 if c == "X" else int(c) for c in number]
        assert sum(d * w for d, w in zip(digits, idcard.WEIGHTS + (1,))) % 11 == 1


def test_upgrade_15_to_18_inserts_19_and_appends_check_digit():
    assert idcard.upgrade15to18("110105491231002") == "11010519491231002X"
    assert idcard.standardise(" 110105491231002 ") == "11010519491231002X"


@pytest.mark.parametrize("number,code", [
    ("", "empty"),
    ("11010519900307123", "length"),
    ("1101051990030712399", "length"),
    ("110105491231002", "legacy15"),
    ("11010519491231002x", "non_digit"),
    ("１１０１０５１９９００３０７１２３９", "non_digit"),
    ("1101051990O3071239", "non_digit"),
    ("110105199002301239", "bad_date"),
    ("110105199013011239", "bad_date"),
    ("110105208501011234", "future_date"),
    ("110105199003071238", "check_digit"),
])
def test_each_failure_has_a_code_and_a_chinese_reason(number, code):
    chk = idcard.is_valid(number, today=TODAY)
    assert not chk and chk.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chk.reason)


def test_a_failed_check_is_falsy_even_though_it_is_a_tuple():
    ok, code, reason = idcard.is_valid("110105199003071238", today=TODAY)
    assert ok is False and "9" in reason
    assert not idcard.is_valid("110105199003071238", today=TODAY)


def test_address_code_checked_only_when_a_list_is_given():
    assert idcard.is_valid("110105199003071239", today=TODAY, address_codes={"110105"})
    assert idcard.is_valid("110105199003071239", today=TODAY,
                           address_codes={"990102"}).code == "address"


def test_normalise_fullwidth_spaces_and_lower_x():
    assert idcard.normalise(" １１０１０５ 19491231\u3000002x ") == "11010519491231002X"
    assert idcard.normalise(None) == "" and idcard.normalise(float("nan")) == ""


def test_parse_reads_sex_from_sequence_parity():
    assert idcard.parse("110105199003071239").sex == "男"  # 123 odd
    assert idcard.parse("11010519491231002X").sex == "女"  # 002 even
    assert idcard.parse("110105491231002").birth_date == date(1949, 12, 31)


def test_check_digit_rejects_bad_body():
    with pytest.raises(ValueError):
        idcard.check_digit("1101051990030712")


def test_mask_standard_hides_birth_date_and_strict_keeps_one_each_end():
    assert idcard.mask("110105199003071239") == "110105********1239"
    assert idcard.mask("110105199003071239", style="strict") == "1" + "*" * 16 + "9"
    assert idcard.mask("110105491231002") == "110105******002"
    assert idcard.mask("") == ""
    with pytest.raises(ValueError):
        idcard.mask("110105199003071239", style="loose")


def test_mask_phone_and_name():
    assert idcard.mask_phone("13812345678") == "138****5678"
    assert idcard.mask_name("张伟") == "张*"
    assert idcard.mask_name("欧阳娜娜") == "欧阳**"
    assert idcard.mask_name("王 芳") == "王*"


@pytest.mark.parametrize("phone,ok", [
    ("13812345678", True), ("19912345678", True), ("12812345678", False),
    ("1381234567", False), ("138123456789", False), ("２3812345678", False), ("", False),
])
def test_is_mobile(phone, ok):
    assert idcard.is_mobile(phone) is ok


def test_age_counts_whole_years():
    assert idcard.age(date(1966, 12, 15), date(2026, 11, 1)) == 59
    assert idcard.age(date(1966, 11, 1), date(2026, 11, 1)) == 60

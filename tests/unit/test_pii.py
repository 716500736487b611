"""The free-text scrubber and finder (quality/pii.py): every form that reaches a served
column masked, and the numbers of a city-operations text (dates, order numbers, amounts,
codes) left alone."""

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quality import pii

# One sentence per form the adversarial test slipped past the old scrubber, and the ones
# it never handled (plates, names): what each must become.
MASKED = [
    # mobiles: country prefixes, full-width digits, spaces, dashes, invisible separators
    ("联系电话+8613812345678。", "联系电话[手机号]。"),
    ("联系电话0086 138 1234 5678。", "联系电话[手机号]。"),
    ("联系电话86-13812345678。", "联系电话[手机号]。"),
    ("电话１３９１２３４５６７８，", "电话[手机号]，"),
    ("电话139 1234 5678，", "电话[手机号]，"),
    ("电话139-1234-5678，", "电话[手机号]，"),
    ("电话139\u200b1234\u200b5678", "电话[手机号]"),
    ("手机一三九一二三四五六七八", "手机[手机号]"),
    # resident ID numbers: spaced, full-width, lower-case x, legacy 15 digits
    ("身份证110105 19491231 002X。", "身份证[身份证号]。"),
    ("身份证１１０１０５１９４９１２３１００２Ｘ。", "身份证[身份证号]。"),
    ("身份证11010519491231002x。", "身份证[身份证号]。"),
    ("老身份证110105491231002。", "老身份证[身份证号]。"),
    # fixed lines: with a dash, in brackets (full-width too), international, after a keyword
    ("座机021-64358170", "座机[固定电话]"),
    ("座机（０２１）６４３５ ８１７０", "座机[固定电话]"),
    ("座机+86 21 6435 8170", "座机[固定电话]"),
    ("电话：64358170", "电话：[固定电话]"),
    # bank cards, e-mail
    ("银行卡6222 0212 3456 7890 123", "银行卡[长号码]"),
    ("邮箱zhang.san@example.com", "邮箱[邮箱]"),
    # licence plates: ordinary, with a dot or space, new-energy small and large, special
    ("车牌沪A12345", "车牌[车牌号]"),
    ("车牌沪A·12345", "车牌[车牌号]"),
    ("车牌沪a 12345", "车牌[车牌号]"),
    ("车牌沪AD12345", "车牌[车牌号]"),
    ("车牌沪A12345D", "车牌[车牌号]"),
    ("车牌沪A1234学、沪A1234警、沪A1234挂", "车牌[车牌号]、[车牌号]、[车牌号]"),
    # names: a surname and a form of address; compound surnames
    ("张先生反映王阿姨家漏水", "[姓名]先生反映[姓名]阿姨家漏水"),
    ("李老师、陈师傅、欧阳女士、赵小姐", "[姓名]老师、[姓名]师傅、[姓名]女士、[姓名]小姐"),
    # house numbers
    ("家住江宁路123弄4号502室", "家住江宁路**弄**号**室"),
    ("家住江宁路１２３弄", "家住江宁路**弄"),
]


@pytest.mark.parametrize(("text", "scrubbed"), MASKED)
def test_every_form_of_personal_data_is_masked(text, scrubbed):
    assert pii.scrub(text) == scrubbed


# What a city-operations text is full of and must keep.
KEPT = [
    "工单2407010001于2024-07-01 10:30受理",  # a 10-digit order number, a date and a time
    "工单JA20240701000123已办结",  # the hotline's own order id (14 digits)
    "2024-07-01 2024-07-05 每天 08:30-17:30",  # dates and office hours side by side
    "罚款1234.50元，补偿2000元",  # amounts
    "设备号860123456789012上报告警",  # a 15-digit device IMEI is no legacy ID
    "7月3号下午，地铁1号线，第001508号文件",  # a date's 号, a metro line, an ordinal
    "统一社会信用代码91310106203433615T",  # an organisation's code is public
    "沪静卫公字[2024]第001508号、JY13101060015049、沪CB0000001",  # licence numbers
    "对方女士态度不好，由于老师不在，律师先生说",  # words ending in a surname character
    "三号楼一室一厅，12345热线",  # Chinese numerals in words, the hotline's number
]


@pytest.mark.parametrize("text", KEPT)
def test_dates_amounts_codes_and_order_numbers_are_not_masked(text):
    assert pii.find(text) == []
    assert pii.scrub(text) == text


def test_an_id_number_with_a_wrong_check_character_is_still_masked():
    # 11010519491231002X is GB 11643's own example; ...003X has a wrong check character.
    # A mistyped ID still points at a person: both are masked, and the finding says which
    # one python-stdnum accepts.
    text = "身份证11010519491231002X，又报11010519491231003X"
    findings = pii.find(text)
    assert [(f.kind, f.checksum_ok) for f in findings] == [
        ("id_number", True),
        ("id_number", False),
    ]
    assert pii.scrub(text) == "身份证[身份证号]，又报[身份证号]"


def test_the_callers_name_is_masked_wherever_the_text_repeats_it():
    text = "段小明来电，称段小明家楼上漏水，段先生要求处理"
    assert pii.scrub(text, ["段小明"]) == "[姓名]来电，称[姓名]家楼上漏水，[姓名]先生要求处理"
    # A caller known only as 段先生: the polite form is masked, a bare 段 is not.
    assert pii.scrub("段先生反映段落不清", ["段先生"]) == "[姓名]先生反映段落不清"


def test_a_caller_name_field_saying_anonymous_masks_nothing():
    assert pii.scrub("市民来电反映噪声", ["市民"]) == "市民来电反映噪声"
    assert pii.scrub("匿名来电", ["匿名", None, ""]) == "匿名来电"


def test_only_the_span_found_changes_and_full_width_punctuation_stays():
    # NFKC is for matching only: the text around a finding is returned as delivered.
    text = "（１）联系：１３９ １２３４ ５６７８！　谢谢"
    assert pii.scrub(text) == "（１）联系：[手机号]！　谢谢"
    finding = pii.find(text)[0]
    found = text[finding.start : finding.end]
    assert (finding.kind, found) == ("mobile", "１３９ １２３４ ５６７８")


def test_characters_nfkc_expands_keep_the_span_in_the_original_text():
    # ①③⑨ fold to 139; 𝟏 (outside the BMP) to 1: spans still point into the original.
    assert pii.scrub("电话①③⑨1234 5678。") == "电话[手机号]。"
    assert pii.scrub("电话𝟏𝟑𝟗12345678。") == "电话[手机号]。"


def test_null_and_empty_text_pass_through():
    assert pii.scrub(None) is None
    assert pii.scrub("") == ""
    assert pii.kinds("") == []


# Fragments a hostile supplier or a hurried operator might write, glued at random.
FRAGMENTS = [t for t, _ in MASKED] + KEPT + ["，", " ", "-", "１", "3", "号", "先生", "沪"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6))
def test_scrubbed_text_holds_nothing_the_scan_finds_and_scrubbing_twice_changes_nothing(parts):
    scrubbed = pii.scrub("".join(parts))
    assert {f.kind for f in pii.find(scrubbed)} & pii.SCANNED_KINDS == set()
    assert pii.scrub(scrubbed) == scrubbed


def test_the_sql_functions_scrub_find_and_scan_as_the_python_ones_do():
    with duckdb.connect() as connection:
        pii.register(connection)
        pii.register(connection)  # a second registration on the same connection is harmless
        row = connection.execute(
            """
            select
                pii_scrub('张伟来电，电话139-1234-5678', '张伟'),
                pii_scrub('电话139-1234-5678', null),
                pii_scrub(null, '张伟'),
                pii_kinds('沪A12345停在3号门口'),
                pii_scan('沪A12345停在3号门口'),
                pii_scan('江宁路3号')
            """
        ).fetchone()
    assert row == (
        "[姓名]来电，电话[手机号]",
        "电话[手机号]",
        None,
        ["house_number", "plate"],
        ["plate"],  # house numbers are scrubbed but not scanned for
        [],
    )

import pytest

from ingestion.contract import OUT_OF_RANGE, Contract, Field, Rule
from ingestion.sources import BY_TABLE, CONTRACTS


def _contract(**overrides):
    arguments = dict(
        source="demo",
        table="demo_rows",
        title="示例",
        format="csv",
        file_glob="*.csv",
        key=("row_id",),
        delivery="day_feed",
        fields=(Field("row_id", "编号", nullable=False), Field("amount", "金额", "float")),
    )
    arguments.update(overrides)
    return Contract(**arguments)


def test_contract_rejects_duplicate_field_names():
    with pytest.raises(ValueError, match="duplicate"):
        _contract(fields=(Field("row_id", "a"), Field("row_id", "b")))


def test_contract_rejects_a_key_that_is_not_a_field():
    with pytest.raises(ValueError, match="not a field"):
        _contract(key=("missing",))


def test_field_rejects_an_unknown_check():
    with pytest.raises(ValueError, match="unknown check"):
        Field("code", "代码", check="no_such_check")


def test_range_requires_a_numeric_type():
    with pytest.raises(ValueError, match="numeric"):
        Field("name", "名称", minimum=0)


def test_rule_rejects_an_unknown_reason():
    with pytest.raises(ValueError, match="unknown reason"):
        Rule("made_up", "true", "never")


def test_fingerprint_changes_when_a_rule_changes():
    plain = _contract()
    ruled = _contract(rules=(Rule(OUT_OF_RANGE, "amount < 0", "负金额"),))
    assert plain.fingerprint() != ruled.fingerprint()
    assert plain.fingerprint() == _contract().fingerprint()


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.table)
def test_key_fields_are_required(contract):
    for name in contract.key:
        assert not contract.field(name).nullable, f"{contract.table}.{name} is a key but nullable"


def test_every_table_has_one_contract_and_a_unique_name():
    assert len(BY_TABLE) == len(CONTRACTS) == 10


def test_contract_rejects_an_unknown_delivery_kind():
    with pytest.raises(ValueError, match="delivery"):
        _contract(delivery="change_log")


def test_each_contract_says_what_one_delivery_states():
    # The device registry is resent whole every day; every other source delivers the day's
    # records (enterprises and licences: the whole registry once, then each day's changes).
    snapshots = {c.table for c in CONTRACTS if c.delivery == "registry_snapshot"}
    assert snapshots == {"iot_devices"}
    assert {c.delivery for c in CONTRACTS} == {"day_feed", "registry_snapshot"}

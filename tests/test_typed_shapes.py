"""Typed shapes (issue 20): the dealer scope is a real field of the config, so copies keep it;
it is no config key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crmtool.config import Config, config_from_dict, with_dealer
from crmtool.config_toml import config_toml
from crmtool.errors import ConfigError


def test_the_dealer_scope_survives_a_copy() -> None:
    group = Config(own_dealers=["D1", "D2"])
    one = with_dealer(group, "D2")
    assert one.own_dealers == ["D2"]
    assert one.dealer_group == ["D1", "D2"] and one.is_group
    # dataclasses.replace used to drop the scope kept outside the fields (is_group turned False)
    copy = replace(one, lang="en")
    assert copy.dealer_group == ["D1", "D2"] and copy.is_group
    assert copy == replace(one, lang="en") and copy != one


def test_a_single_store_is_no_group() -> None:
    single = Config(own_dealers=["D1"])
    assert single.dealer_group == ["D1"] and not single.is_group
    assert with_dealer(single, "D1").dealer_group == ["D1"]


def test_the_dealer_scope_is_no_config_key() -> None:
    with pytest.raises(ConfigError, match="unknown config key 'dealer_scope'"):
        config_from_dict({"dealer_scope": ["D1"]})
    shown = config_toml(with_dealer(Config(own_dealers=["D1", "D2"]), "D1"))
    assert "dealer_scope" not in shown

"""A rule's products against the target's ``learning.products``: refused at compile, not later.

Before, only the RTL image check (fabric build) compared a core's products with the engine; the
compiler accepted any number of products, and loihi1 set no limit at all although the engine
contract (16-bit product start and count per profile) addresses at most 2^16 - 1 of them.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikefab as sf
from spikefab.arch.learning.words import MAX_CORE_PRODUCTS
from spikefab.arch.target import load_target
from spikefab.errors import ResourceError


def _net(n_products: int):
    net = sf.Network()
    net.input("x", 2)
    net.population("p", 2, sf.LoihiLIF(du=1024, dv=512, vth=60))
    rule = sf.LearningRule(dw=" + ".join(["2^-3 * x0 * y1"] * n_products),
                           y1=sf.TraceConfig(20, 5), name="many")
    net.connect("x", "p", np.array([[10, 20], [40, 50]]), learning=rule, name="plastic")
    net.output("y", "p")
    return net


def test_loihi1_limits_products_to_what_the_engine_contract_addresses() -> None:
    t = load_target("loihi1")
    assert t.learning.products == MAX_CORE_PRODUCTS == (1 << 16) - 1
    assert "16-bit" in t.sources["learning.products"]


def test_a_rule_over_the_targets_products_is_refused_at_compile() -> None:
    have = load_target("ecp5-85k").learning.products
    assert have == 32
    image = sf.compile(_net(have), "ecp5-85k")          # at the limit: compiles
    assert max(len(c.learn_products) for c in image.cores) == have
    with pytest.raises(ResourceError, match=r"core 0 needs 33 learning rule products "
                       r"\(projection 'plastic', rule 'many': 33 products\), target ecp5-85k "
                       r"has 32 per core \(learning.products\)"):
        sf.compile(_net(have + 1), "ecp5-85k")

"""On-chip learning, the contract: rule language, learning profiles, random numbers, reference.

``rule`` (grammar -> product series), ``profile`` (rule + trace parameters -> what the image
holds), ``random`` (the generators and when they advance), ``engine`` (the plain-integer
reference every backend equals), ``constructors`` (STDP), ``tables`` (profile <-> image
tables, one core's learning engine), ``readout`` (learned weights as matrices).
"""

from spikefab.arch.learning.constructors import STDP, RewardModulatedSTDP, float_to_literal
from spikefab.arch.learning.engine import (PlasticGroup, evaluate_series, is_epoch_end, learn,
                                           record_post, record_pre, record_reward, within_epoch)
from spikefab.arch.learning.profile import LearningProfile, LearningRule, TraceConfig
from spikefab.arch.learning.random import GENERATORS, LearningRandom, seed_states, xorshift64
from spikefab.arch.learning.rule import Factor, Product, ProductSeries, parse_rule

__all__ = [
    "LearningRule", "TraceConfig", "LearningProfile", "STDP", "RewardModulatedSTDP",
    "float_to_literal", "parse_rule", "Factor", "Product", "ProductSeries",
    "PlasticGroup", "record_pre", "record_post", "record_reward", "learn", "is_epoch_end", "within_epoch",
    "evaluate_series", "LearningRandom", "GENERATORS", "seed_states", "xorshift64",
]

"""The learning-rule language and its product-series form (what a learning profile holds).

A rule is written the way Loihi's learning engine and Lava's ``Loihi2FLearningRule`` write it:
``dw``, optionally ``dd`` (delay, Lava's ``tag_2``) and ``dt`` (tag, Lava's ``tag_1``), each a sum
of products, for example ``2^-2 * x1 * y0 - 2^-2 * y1 * x0``.  Grammar (whitespace ignored)::

    rule    := ["+"|"-"] product (("+"|"-") product)*
    product := factor ("*" factor)*
    factor  := literal | x0 | y0 | uK | x1 | x2 | y1 | y2 | y3 | w | d | t
             | "(" inner ")" | "sgn(" inner ")"
    inner   := ["+"|"-"] atom [("+"|"-") atom]       one variable and at most one integer constant
    literal := INT "*2^" [+-]INT  |  "2^" [+-]INT  |  INT

Each product becomes a :class:`Product` exactly as Lava's ``ProductSeries`` builds it (reference
notes: ``lava/magma/core/learning/product_series.py``): the first of ``x0``, ``y0``, ``uK`` is the
product's *dependency* (a later ``x0``/``y0`` is an ordinary 1-bit factor); every literal and
every sign multiplies into one scaling constant ``s_mantissa * 2^s_exp`` (mantissa normalized
while ``|m| > 7`` and even, then ``-8 <= m <= 7`` and ``-7 <= exp <= 8`` are required; the
product stores ``s_exp + 7``); a bracket ``(v + c)`` is a factor with a constant; ``sgn(w + c)``
a sign factor (only over ``w``, ``d``, ``t``).  ``uK`` is the epoch-decimated dependency: 1 on
epochs whose index is a multiple of ``2^K`` (one ``K`` per learning profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from spikefab.arch.errors import ModelError

__all__ = [
    "DEPENDENCIES", "TRACES", "SYN_VARS", "FACTOR_WIDTH", "TARGETS",
    "Factor", "Product", "ProductSeries", "parse_rule",
]

DEPENDENCIES = ("x0", "y0", "u")
TRACES = ("x1", "x2", "y1", "y2", "y3")
SYN_VARS = ("w", "d", "t")
#: Saturation width of each factor (Lava ``FACTOR_TO_WIDTH_DICT``): value clipped to [-2^b, 2^b-1].
FACTOR_WIDTH = {"x0": 1, "y0": 1, "x1": 7, "x2": 7, "y1": 7, "y2": 7, "y3": 7,
                "w": 9, "d": 9, "t": 9}
#: Rule targets and the synaptic variable each one changes.
TARGETS = {"dw": "w", "dd": "d", "dt": "t"}

_GRAMMAR = r"""
    start: SIGN? product (SIGN product)*
    product: factor ("*" factor)*
    ?factor: literal | name | bracket | sgn
    bracket: "(" inner ")"
    sgn: "sgn" "(" inner ")"
    inner: SIGN? atom (SIGN atom)?
    ?atom: literal | name
    literal: POW | INT
    name: NAME
    SIGN: "+" | "-"
    POW.2: /([0-9]+\*)?2\^[+-]?[0-9]+/
    INT: /[0-9]+/
    NAME: /x[012]|y[0123]|u[0-9]|[wdt]/
"""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr")


@dataclass(frozen=True)
class Factor:
    """One factor of a product: ``var + const`` (or ``sgn(var + const)``), saturated to its width."""

    var: str                 #: one of x0 y0 x1 x2 y1 y2 y3 w d t
    const: int = 0
    is_sgn: bool = False


@dataclass(frozen=True)
class Product:
    """``s_mantissa * 2^(s_exp - 7) * dependency * factors...`` in Loihi's fixed-point evaluation."""

    dependency: str          #: x0, y0 or u
    s_mantissa: int          #: -8..7
    s_exp: int               #: 0..15 (the literal exponent + 7)
    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class ProductSeries:
    """A parsed rule for one target (``dw``, ``dd`` or ``dt``)."""

    target: str
    products: tuple[Product, ...]
    decimate_exponent: int | None = None

    def traces_used(self) -> set[str]:
        return {f.var for p in self.products for f in p.factors if f.var in TRACES}


def _literal(tok: Token) -> tuple[int, int]:
    """(mantissa, exponent) of a literal token, as Lava's ``Literal.to_int``."""
    text = str(tok)
    if "^" in text:
        head, exp = text.split("^")
        mant = int(head[:-2]) if "*" in head else 1
        return mant, int(exp)
    return int(text), 0


class _Builder:
    """Walks the parse tree and applies Lava's product construction rules."""

    def __init__(self, target: str, where: str) -> None:
        self.target, self.where = target, where
        self.decimate: int | None = None

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.where}: learning rule {self.target}: {what}", where=self.where)

    def product(self, sign: str, tree: Tree) -> Product:
        dependency = None
        mant, exp = (-1 if sign == "-" else 1), 0
        factors: list[Factor] = []
        for node in tree.children:
            kind = node.data
            if kind == "literal":
                m, e = _literal(node.children[0])
                mant, exp = mant * m, exp + e
            elif kind == "name":
                name = str(node.children[0])
                if name[0] == "u":
                    if dependency is not None:
                        raise self.fail(f"'{name}' must be a product's dependency (first of "
                                        f"x0, y0, uK), not follow {dependency!r}")
                    self._decimate(int(name[1:]))
                    dependency = "u"
                elif name in ("x0", "y0") and dependency is None:
                    dependency = name
                else:
                    factors.append(Factor(name))
            else:   # bracket / sgn
                var, const, m_sign, lit = self._inner(node.children[0], sgn=kind == "sgn")
                if var is None:
                    mant, exp = mant * m_sign * lit[0], exp + lit[1]
                else:
                    mant *= m_sign
                    factors.append(Factor(var, const, is_sgn=kind == "sgn"))
        while abs(mant) > 7 and mant % 2 == 0 and exp < 8:
            mant, exp = mant // 2, exp + 1
        if dependency is None:
            raise self.fail("every product needs a dependency x0, y0 or uK, none found")
        if not -8 <= mant <= 7:
            raise self.fail(f"scaling mantissa must be -8..7 (as m * 2^k), not {mant}")
        if not -7 <= exp <= 8:
            raise self.fail(f"scaling exponent must be -7..8, not {exp}")
        return Product(dependency, mant, exp + 7, tuple(factors))

    def _decimate(self, k: int) -> None:
        if self.decimate is not None and self.decimate != k:
            raise self.fail(f"one decimate exponent per rule, found u{self.decimate} and u{k}")
        self.decimate = k

    def _inner(self, tree: Tree, sgn: bool):
        """``(v + c)`` -> (var, const, mantissa sign, None); ``(c)`` -> (None, 0, sign, literal)."""
        signs, atoms = [], []
        pending = "+"
        for ch in tree.children:
            if isinstance(ch, Token) and ch.type == "SIGN":
                pending = str(ch)
            else:
                signs.append(pending)
                atoms.append(ch)
                pending = "+"
        names = [a for a in atoms if a.data == "name"]
        lits = [a for a in atoms if a.data == "literal"]
        if len(names) > 1 or (not names and len(lits) != 1):
            raise self.fail("a bracket must hold one variable and at most one constant")
        if not names:
            m, e = _literal(lits[0].children[0])
            return None, 0, (-1 if signs[0] == "-" else 1), (m, e)
        var = str(names[0].children[0])
        if var[0] == "u":
            raise self.fail(f"'{var}' cannot appear inside a bracket")
        if sgn and var not in SYN_VARS:
            raise self.fail(f"sgn(..) applies to w, d or t only, not {var!r}")
        const = 0
        if lits:
            m, e = _literal(lits[0].children[0])
            if e < 0:
                raise self.fail(f"a bracket constant must be an integer, not {m}*2^{e}")
            const = m * 2 ** e * (-1 if signs[atoms.index(lits[0])] == "-" else 1)
            if not -(1 << 15) <= const < (1 << 15):     # learn_products.const is 16-bit signed
                raise self.fail(f"a bracket constant must be in [-32768, 32767] (16-bit "
                                f"register), not {const}")
        var_neg = signs[atoms.index(names[0])] == "-"
        if var_neg and sgn:
            raise self.fail("the variable in sgn(..) cannot be negative")
        if var_neg and not lits:
            raise self.fail(f"write -{var} outside the bracket, not (-{var})")
        if var_neg:
            return var, -const, -1, None
        return var, const, 1, None


def parse_rule(target: str, text: str, *, where: str = "learning rule") -> ProductSeries:
    """Parse one rule string (``target`` is ``dw``, ``dd`` or ``dt``) into a :class:`ProductSeries`.

    Any syntax or range problem is a :class:`~spikefab.errors.ModelError` naming the rule.
    """
    if target not in TARGETS:
        raise ModelError(f"{where}: rule target must be one of dw, dd, dt, not {target!r}",
                         where=where)
    try:
        tree = _parser().parse("".join(text.split()))   # Lava strips spaces too
    except LarkError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{where}: learning rule {target} = {text!r} does not parse: {first}",
                         where=where) from None
    b = _Builder(target, where)
    products, sign = [], "+"
    for ch in tree.children:
        if isinstance(ch, Token):
            sign = str(ch)
        else:
            products.append(b.product(sign, ch))
            sign = "+"
    return ProductSeries(target, tuple(products), b.decimate)

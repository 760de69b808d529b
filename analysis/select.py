"""Choosing documents and deriving groups from metadata.

``where`` expressions select rows of a metadata table or a token table::

    year >= 2016
    district in ['sip', 'wuzhong'] and not (year == 2020)
    source != '人民网' or title == '党建引领'

Columns are named bare; values are numbers or quoted strings; ``==, !=, <, <=, >, >=``,
``in`` / ``not in`` a list, ``and``, ``or``, ``not`` and parentheses. The expression is
parsed with Python's ``ast`` and evaluated here, never with ``eval``: a ``corpus.toml`` that
carries one cannot run code. A value is matched whatever its type: ``year == '2022'`` and
``year == 2022`` select the same rows.

``derive`` adds grouping columns binned from another column, e.g. eras from years::

    {"era": {"column": "year", "ranges": {"reform": [1978, 2011], "new era": [2012, 2030]}}}

Ranges are closed intervals; a value in no range, or in two, is an error naming it. The new
column is ordered as the ranges are given (an ordered categorical), so tables over it run
from the first era to the last, not in the order of the labels' characters.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import AnalysisError, column_error

_COMPARE = {ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__", ast.GtE: "__ge__"}
#: Columns of a token table that are not metadata.
NOT_METADATA = ("unit_id", "tokens", "n_tokens")


def _fail(where: str, what: str) -> AnalysisError:
    return AnalysisError(f"where {where!r}: {what}; write e.g. \"year >= 2016 and district in ['sip', 'wuzhong']\".")


def _literal(node: ast.AST, where: str):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -_literal(node.operand, where)
    raise _fail(where, f"{ast.unparse(node)!r} is not a number or a quoted string")


def _values(column: pd.Series, value, where: str):
    """``column`` and ``value`` made comparable: numbers with numbers, text with text."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise _fail(where, f"column {column.name!r} holds numbers, and {value!r} is not one") from None
        return column, value
    return column.astype(str), str(value)


def _evaluate(node: ast.AST, frame: pd.DataFrame, where: str) -> np.ndarray:
    if isinstance(node, ast.BoolOp):
        parts = [_evaluate(v, frame, where) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_evaluate(node.operand, frame, where)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        if not isinstance(node.left, ast.Name):
            raise _fail(where, f"the left side of {ast.unparse(node)!r} must be a column name")
        name = node.left.id
        if name not in frame.columns:
            raise column_error(name, [c for c in frame.columns if c not in NOT_METADATA])
        column, op, right = frame[name], node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                raise _fail(where, f"'in' needs a list, e.g. {name} in ['a', 'b']")
            pairs = [_values(column, _literal(item, where), where) for item in right.elts]
            mask = pairs[0][0].isin([value for _, value in pairs]).to_numpy() if pairs else np.zeros(len(column), bool)
            return ~mask if isinstance(op, ast.NotIn) else mask
        if type(op) not in _COMPARE:
            raise _fail(where, f"{ast.unparse(node)!r} uses an operator that is not allowed")
        left, value = _values(column, _literal(right, where), where)
        return getattr(left, _COMPARE[type(op)])(value).fillna(False).to_numpy(dtype=bool)
    raise _fail(where, f"{ast.unparse(node)!r} is not a comparison of a column with a value")


def where_mask(frame: pd.DataFrame, where: str) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that satisfy ``where`` (see the module docstring).

    Raises AnalysisError naming the expression, the column or the value at fault.
    """
    if not isinstance(where, str) or not where.strip():
        raise _fail(str(where), "the expression is empty")
    try:
        tree = ast.parse(where.strip(), mode="eval")
    except SyntaxError as exc:
        raise _fail(where, f"not a valid expression ({exc.msg})") from None
    return _evaluate(tree.body, frame, where)


def select_rows(frame: pd.DataFrame, where: str | None) -> pd.DataFrame:
    """The rows of ``frame`` (metadata or a token table) that satisfy ``where``; all if None."""
    if where is None:
        return frame
    out = frame[where_mask(frame, where)].reset_index(drop=True)
    out.attrs = {**frame.attrs, "where": where}
    return out


def derive_columns(metadata: pd.DataFrame, derive: Mapping[str, Mapping] | None) -> pd.DataFrame:
    """``metadata`` with a column per entry of ``derive``: ``{name: {"column": source,
    "ranges": {label: [low, high], …}}}``; each row gets the label of the closed range its
    value falls in. Raises AnalysisError for a missing column, a malformed range, or a value
    in no range (naming the document)."""
    if not derive:
        return metadata
    out = metadata.copy()
    for name, spec in derive.items():
        where = f"derived column {name!r}"
        if not isinstance(spec, Mapping) or "column" not in spec or not isinstance(spec.get("ranges"), Mapping) or not spec["ranges"]:
            raise AnalysisError(f"{where}: give a column and ranges, e.g. {{column = \"year\", ranges = {{\"new era\" = [2012, 2030]}}}}.")
        source = spec["column"]
        if source not in out.columns:
            raise column_error(source, out.columns)
        if name in metadata.columns:
            raise AnalysisError(f"{where}: the metadata already has a column {name!r}; choose another name.")
        values = pd.to_numeric(out[source], errors="coerce")
        labels = pd.Series([None] * len(out), index=out.index, dtype=object)
        for label, bounds in spec["ranges"].items():
            if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds)):
                raise AnalysisError(f"{where}: range {label!r} is {bounds!r}; write [low, high], e.g. [1978, 2011].")
            inside = (values >= bounds[0]) & (values <= bounds[1])
            twice = inside & labels.notna()
            if twice.any():
                raise AnalysisError(f"{where}: {source} = {out.loc[twice.idxmax(), source]} is in two ranges "
                                    f"({labels[twice.idxmax()]!r} and {label!r}); make the ranges disjoint.")
            labels[inside] = str(label)
        missing = labels.isna()
        if missing.any():
            row = out.loc[missing.idxmax()]
            raise AnalysisError(f"{where}: document {row['doc_id']!r} has {source} = {row[source]}, in no range; "
                                f"extend the ranges to cover it ({int(missing.sum())} document(s) are outside).")
        # ordered as the ranges are given, so eras sort 1921-1948 before 1949-1977, not by name
        out[name] = pd.Categorical(labels.astype(str), categories=[str(label) for label in spec["ranges"]], ordered=True)
    return out

"""The question bank: model, loading with line numbers, checks, canonical YAML, Excel, stats.

`bank.load()` / `bank.load_ok()` / `bank.load_skills()` are what the rest of the suite calls.
"""
from .load import BankError, load, load_ok, load_skills  # noqa: F401
from .model import BLANK, FIELDS, LEVELS, OBJECTIVE, Item, Problem, by_id  # noqa: F401

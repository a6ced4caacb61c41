"""The experiments behind the book's notebooks, one module per paper.

Each function takes resolved notebook settings, trains (or loads from the
cache) what it needs and returns tidy tables; notebooks only call these and
present the results.
"""

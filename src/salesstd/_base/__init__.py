"""Private base layer: validation, columns, timestamps, frames, results, text, lazy imports.

Its modules import only `salesstd.errors`, numpy, attrs and the standard library (heavier
core dependencies go through `salesstd._base.lazy`). Every other layer may import it; it imports
no other part of salesstd.
"""

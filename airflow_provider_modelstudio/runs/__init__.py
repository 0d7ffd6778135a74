"""The run lifecycle, in one place: status vocabulary, launch and reattach, waiting, and the result shape.

Operator, sensor and trigger all call into this package; none of them interprets a status or builds a
result on its own.
"""

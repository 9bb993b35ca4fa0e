"""The benchmark: pilotscale's readiness check and dispatcher against the lower bound and
the naive design, on generated stores of 100 people per department.

    python -m bench --departments 1000 [--store sqlite|postgres|both] [--quick]
"""

"""Metrics in, impact out: file imports, metric sources, KPIs, the funnel, budget, trends."""

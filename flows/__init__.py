"""Flows stage: Prefect 3 flows and the `xxgk` CLI. The only package that imports Prefect
(and only `flows/run.py` does, so `xxgk extract` and `xxgk query` stay fast)."""

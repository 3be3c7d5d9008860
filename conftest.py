"""Project conftest: the fixtures, options and markers come from the harness's pytest
plugin (harness/fixtures/plugin.py), registered as the pytest11 entry point ``spark_chaos``."""

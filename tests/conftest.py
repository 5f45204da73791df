"""pytest plugin for the cross-addon tests.

pytest-odoo 2.3 sets ``odoo.modules.module.current_test`` only on Odoo 19; Odoo 18
uses it in its test cursors and HttpCase to know which test is running.
"""

import pytest

import odoo.modules.module


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    instance = getattr(item, "instance", None)
    if instance is not None:
        odoo.modules.module.current_test = instance


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    odoo.modules.module.current_test = False

"""The gallery runs every example with ``--quick``: the small budgets the tests use, so the
documentation builds within the test suite's time."""


def quick_argv(gallery_conf, script_vars):
    """Command-line arguments given to each example when the gallery executes it."""
    return ["--quick"]

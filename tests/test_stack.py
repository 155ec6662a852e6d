"""handouts.stack: calls under `roomy` keep their frames in one roomy stack chunk."""

import resource

import pytest

from handouts.stack import roomy


def _dive(depth: int) -> int:
    return 0 if depth == 0 else _dive(depth - 1) + 1


def _churn() -> int:
    """Calls 300 deep and back, 2,000 times: at about 100 bytes a frame, each dive
    crosses the end of at least one of CPython's 16 KB stack chunks."""
    return sum(_dive(300) for _ in range(2000))


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_roomy_calls_the_function_with_its_arguments():
    assert roomy(divmod, 17, 5) == (3, 2)
    assert roomy(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    assert roomy(_churn) == 600_000


def test_roomy_passes_exceptions_and_recursion_limits_through():
    with pytest.raises(ZeroDivisionError):
        roomy(divmod, 1, 0)
    with pytest.raises(RecursionError):
        roomy(_dive, 100_000)


def test_deep_calls_under_roomy_fault_in_no_fresh_stack_pages():
    """Each stack chunk CPython opens is a new mapping whose pages fault in when first
    touched; under `roomy` the dives stay in one chunk, whose pages fault in once."""
    before = _minor_faults()
    _churn()
    plain = _minor_faults() - before
    if plain < 1000:
        pytest.skip(f"this Python reuses its stack chunks ({plain} page faults in 2,000 dives)")
    before = _minor_faults()
    roomy(_churn)
    room = _minor_faults() - before
    assert room < plain / 10, (plain, room)

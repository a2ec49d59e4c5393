"""sitcen.testing: the parts tests, benchmarks and scripts share behave as they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitcen.testing import NodeProcess


def test_a_node_that_does_not_answer_in_time_is_not_left_running(tmp_path: Path) -> None:
    node = NodeProcess("kg-osh-post", f"sqlite:///{tmp_path / 'node.db'}", tmp_path, "KG")
    with pytest.raises(TimeoutError):
        node.start(timeout_s=0.0)  # no node imports its app that fast
    assert node.process is None
    assert not node.running

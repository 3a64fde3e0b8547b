import threading

import pytest

from stethoscan.core.errors import Cancelled
from stethoscan.core.task import SilentTask


def test_cancel_from_another_thread_stops_work():
    task = SilentTask()
    steps = []

    def work():
        with pytest.raises(Cancelled):
            for i in range(10_000_000):
                task.check_cancelled()
                steps.append(i)
                if i == 100:
                    threading.Thread(target=task.cancel).start()

    work()
    assert 100 < len(steps) < 10_000_000


def test_progress_is_clamped_and_partials_kept():
    task = SilentTask()
    task.progress(1.7, "done")
    task.partial("first slice")
    assert task.fraction == 1.0 and task.message == "done" and task.partials == ["first slice"]

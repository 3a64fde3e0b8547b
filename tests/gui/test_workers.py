import threading
import time

from stethoscan.core.errors import DicomError
from stethoscan.gui.workers import Workers


def _slow_count(n, task):
    for i in range(n):
        task.check_cancelled()
        task.progress((i + 1) / n, f"step {i + 1}")
        if i == 0:
            task.partial(("first", threading.current_thread().name))
        time.sleep(0.01)
    return n


def _fails(task):
    raise DicomError("The file is truncated: copy it again from the CD.")


def test_job_reports_progress_partial_and_result_on_gui_thread(qtbot):
    workers = Workers()
    try:
        job = workers.submit("count", _slow_count, 5)
        seen = []
        job.progress.connect(lambda f, m: seen.append((f, threading.current_thread() is threading.main_thread())))
        partials = []
        job.partial.connect(partials.append)
        with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
            pass
        assert blocker.args == [5]
        assert partials and partials[0][0] == "first" and partials[0][1].startswith("stethoscan-io")
        assert seen and all(on_gui for _, on_gui in seen)
        assert job.state == "finished"
    finally:
        workers.shutdown()


def test_cancel_stops_the_work(qtbot):
    workers = Workers()
    try:
        job = workers.submit("count", _slow_count, 10_000)
        qtbot.waitUntil(lambda: job.fraction > 0, timeout=5000)
        with qtbot.waitSignal(job.cancelled, timeout=5000):
            job.cancel()
        assert job.state == "cancelled"
    finally:
        workers.shutdown()


def test_typed_error_reaches_the_widget(qtbot):
    workers = Workers()
    try:
        job = workers.submit("fail", _fails)
        with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
            pass
        assert "copy it again" in str(blocker.args[0])
    finally:
        workers.shutdown()


def test_inference_pool_runs_one_job_at_a_time(qtbot):
    workers = Workers()
    active, peak = [0], [0]
    lock = threading.Lock()

    def work(task):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    try:
        jobs = [workers.submit("m", work, pool="inference") for _ in range(3)]
        qtbot.waitUntil(lambda: all(j.state == "finished" for j in jobs), timeout=5000)
        assert peak[0] == 1
    finally:
        workers.shutdown()

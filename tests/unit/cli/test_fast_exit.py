"""``exit_now``: the data commands end without the interpreter's teardown, and lose nothing by it.

Real subprocesses (the fast exit ends the process): the output is complete, the exit code is the
command's, ``atexit`` handlers still run, and with another thread alive the exit is the normal one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SENTINEL = [sys.executable, "-m", "sentinel_dev.cli.main"]


def _py(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_exit_now_flushes_runs_atexit_and_keeps_the_code() -> None:
    done = _py(
        "import atexit, sys\n"
        "from sentinel_dev.cli.main import exit_now\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "sys.stdout.write('x' * 100000)\n"  # buffered, not yet written
        "sys.stderr.write('to stderr')\n"
        "exit_now(3)\n"
        "print('never')\n"
    )
    assert done.returncode == 3
    assert done.stdout == "x" * 100000 + "atexit ran\n"
    assert done.stderr == "to stderr"


def test_exit_now_with_a_thread_alive_exits_normally() -> None:
    # a normal exit waits for a non-daemon thread; os._exit would kill it before it prints
    done = _py(
        "import threading, time\n"
        "from sentinel_dev.cli.main import exit_now\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('thread finished', flush=True)\n"
        "threading.Thread(target=late).start()\n"
        "exit_now(4)\n"
    )
    assert done.returncode == 4
    assert done.stdout == "thread finished\n"


def test_data_commands_exit_fast_with_their_whole_output(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n" + "".join(f"{i % 7},{'xyz'[i % 3]}\n" for i in range(500)))
    base = tmp_path / "base.json"
    built = subprocess.run(
        [*SENTINEL, "baseline", "build", "--input", str(csv), "--output", str(base), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["records_ok"] == 500
    assert json.loads(base.read_text())["records_ok"] == 500  # the file is complete on disk
    check = subprocess.run(
        [*SENTINEL, "drift", "check", "--baseline", str(base), "--current", str(csv), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert [f["feature"] for f in report["features"]] == ["a", "b"] and not report["drifted"]
    bad = subprocess.run(
        [*SENTINEL, "drift", "check", "--baseline", str(tmp_path / "none.json"), "--current", str(csv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == "" and bad.stderr.startswith("sentinel: ") and bad.stderr.count("\n") == 1


def test_run_disables_the_cycle_collector_for_data_commands_only(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a\n" + "".join(f"{i}\n" for i in range(100)))
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('gc enabled:', gc.isenabled()))\n"
        "sys.argv = ['sentinel', *sys.argv[1:]]\n"
        "from sentinel_dev.cli.main import run\n"
        "run()\n"
    )
    data = subprocess.run(
        [sys.executable, "-c", probe, "baseline", "build", "--input", str(csv), "--output", str(tmp_path / "b.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert data.returncode == 0, data.stderr
    assert data.stdout.endswith("gc enabled: False\n")
    other = subprocess.run(
        [sys.executable, "-c", probe, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert other.returncode == 0 and other.stdout.endswith("gc enabled: True\n")

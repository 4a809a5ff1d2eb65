"""settle_heap: start-up objects leave the collector's passes; later garbage is still collected.

Run in a child interpreter: freezing is for a service's process, not the test runner's."""

import subprocess
import sys

CHILD = """
import gc
from idfuse_node.cli.common import settle_heap

class Node:
    pass

start_up = Node(); start_up.me = start_up  # a cycle alive at start: kept, frozen
dropped = Node(); dropped.me = dropped; del dropped  # start-up garbage: collected first
settle_heap()
frozen = gc.get_freeze_count()
assert frozen > 10_000, frozen  # the modules and everything else alive at start
assert not any(o is start_up for o in gc.get_objects())  # out of the collector's passes
later = Node(); later.me = later; del later  # garbage made while serving
assert gc.collect() >= 1  # still found and freed
assert start_up.me is start_up
print("ok", frozen)
"""


def test_settle_heap_freezes_start_up_objects_and_later_garbage_is_still_collected():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")

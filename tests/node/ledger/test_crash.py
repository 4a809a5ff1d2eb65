"""kill -9 in the middle of a stream of atomic batches loses no committed batch and tears none."""

import os
import signal
import subprocess
import sys

from idfuse_node.ledger.leveldb import LevelDB

KEYS_PER_BATCH = 20
WRITER = """
import sys
from idfuse_node.ledger.leveldb import LevelDB

db = LevelDB(sys.argv[1])
index = 0
while True:
    with db.atomic_batch() as batch:
        for part in range(int(sys.argv[2])):
            batch[b"batch-%d-%d" % (index, part)] = b"%d" % index * 64
    print(index, flush=True)
    index += 1
"""


def parts_present(db, index):
    return sum(b"batch-%d-%d" % (index, part) in db for part in range(KEYS_PER_BATCH))


def test_sigkill_keeps_every_acknowledged_batch_whole(tmp_path):
    path = tmp_path / "db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(KEYS_PER_BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acknowledged = []
    try:
        for line in writer.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 200:
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        # Drain what it printed between our last read and the kill: those were committed too.
        acknowledged.extend(int(line) for line in writer.stdout.read().split())
    finally:
        writer.stdout.close()
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert acknowledged == list(range(len(acknowledged)))

    with LevelDB(path) as db:
        for index in acknowledged:
            assert parts_present(db, index) == KEYS_PER_BATCH, f"acknowledged batch {index} lost"
        # At most the batch in flight when the kill landed may also be there, and only whole.
        in_flight = len(acknowledged)
        assert parts_present(db, in_flight) in (0, KEYS_PER_BATCH)
        assert parts_present(db, in_flight + 1) == 0

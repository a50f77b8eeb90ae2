"""Record the digests tests/core/test_same_bits.py checks, for every CPU variant this machine runs
(one child process each), into tests/data/reference_bits.json, keeping other builds' entries.

    python tests/support/record_bits.py

Run it after a deliberate change of the core's arithmetic, with the package built in place or
installed; commit the file with the change.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REFERENCE = TESTS / "data" / "reference_bits.json"

_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_same_bits import build_key, digests
print(json.dumps({build_key(): digests()}))
"""


def main():
    recorded = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}
    for variant in ("v2", "v3", "v4", None):  # None: a single-core build
        env = dict(os.environ, FASTNN_CPU_VARIANT=variant or "")
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(TESTS / "core")], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            if "FASTNN_CPU_VARIANT" in proc.stderr:  # not built, or this CPU cannot run it
                print(f"{variant}: {proc.stderr.strip().splitlines()[-1]}")
                continue
            sys.exit(proc.stderr)
        entry = json.loads(proc.stdout.strip().splitlines()[-1])
        if "null" in entry:
            sys.exit("a native build: nothing to record")
        key = next(iter(entry))
        if variant is None and not key.startswith("portable"):
            break  # a dispatching build: its variants are recorded above
        recorded.update(entry)
        print(f"recorded {key}")
    REFERENCE.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

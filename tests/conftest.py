import os
import sys

# Make the helper modules (_reference.py, _util.py) importable whatever the
# pytest import mode.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

"""Every size limit on what a maintainer hands us, in one place, each with its reason.

The upload limit is the one number a deployment sets (``server.maxUploadSize`` in
``.streamlit/config.toml``, which Streamlit's upload widget obeys too); the others follow from
it or from the largest real published files, and each error that enforces one names it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

_CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"
with open(_CONFIG, "rb") as _f:
    #: The upload limit, in MB as Streamlit counts them (MiB): one number, set once as
    #: ``server.maxUploadSize`` in .streamlit/config.toml, which the upload widget also obeys.
    MAX_UPLOAD_MB: int = int(tomllib.load(_f)["server"]["maxUploadSize"])
#: The browser's upload widget counts that number in millions of bytes (its server counts
#: MiB); the smaller is the limit that holds, so a file the page accepts the widget accepts too.
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1000**2

#: Largest CSV we will decompress from a zip. The largest published ICB/sub-ICB CSV is a few
#: hundred MB; three times the upload limit leaves room and still refuses a bomb.
MAX_CSV_BYTES = 3 * MAX_UPLOAD_BYTES
#: A zip member that claims to expand more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
#: No published line is longer than a few hundred bytes; a longer one is not a published file.
MAX_LINE_BYTES = 1 << 20
#: Rows a file may keep (every row of the measures and breakdowns we read). The largest real
#: quarter keeps about 28,000 (4,700 areas-and-groups x 6 measures); this is five times that,
#: and what a page upload of a file at this cap and the upload limit may cost stays under 1 GB
#: (bench/upload.py --worst-only).
MAX_KEPT_ROWS = 150_000
#: Bytes read at a time (at most MAX_LINE_BYTES, so that a line's length is measured exactly).
READ_BYTES = 1 << 20
#: Bytes parsed at a time.
BLOCK_BYTES = 2 << 20
#: Member names a zip error lists at most.
LIST_AT_MOST = 10

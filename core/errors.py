"""The one error type a maintainer sees when a file cannot be used."""

from __future__ import annotations

import re

#: Control characters, line breaks included: a file's name is said on one line, as typed.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(name: str) -> str:
    """A file name with its control characters as escapes (``\\n``): a name holding a line
    break printed a second line that looked like another message (a helper's review)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], name)


class InputError(ValueError):
    """A file we were handed cannot be read as NHS Talking Therapies data.

    It carries where the problem is (file, row, column) so that the command line and the upload
    page can say it in the same words. ``row`` is the line number in the file as a spreadsheet
    would show it, counting the header as line 1.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(printable(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def in_file(self, file: str) -> InputError:
        """The same error, naming ``file`` if it did not already name one."""
        if self.file is None:
            self.file = file
            self.args = (str(self),)
        return self


class YearError(InputError):
    """An annual file's financial year is missing from its name, or is not one it can be.

    The one error a maintainer can cure without a new file, by giving the year (``--period``
    on the command line, the year box on the Upload data page): callers offer that by type.
    """

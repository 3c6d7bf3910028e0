"""A check's outcome, as the command prints it and the REST door answers it."""

from __future__ import annotations

from pydantic import BaseModel


class CheckOut(BaseModel):
    """One line of the report: ✓ or ✗, what was found, and what to do when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


class DoctorReport(BaseModel):
    ok: bool
    checks: list[CheckOut]

"""Sign-in attempt counters (when Redis is not there to keep them): one row per key."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class LoginAttempt(SQLModel, table=True):
    """Attempts for one key (an account's digest or a client address) in its open window.

    Incremented by one guarded upsert before the password is checked, so concurrent
    attempts each see their own count; a window that has ended starts again at 1."""

    __tablename__ = "login_attempt"

    key: str = Field(primary_key=True, max_length=120)
    count: int = Field(default=0)
    # When the window closes: milliseconds since the epoch (compared in SQL on both engines).
    window_ends_ms: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))

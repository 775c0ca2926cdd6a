"""The SQLite file shared by daphne and room workers is opened for concurrent use."""

from __future__ import annotations

from pathlib import Path

from tests.support.daphne import embedded_env, manage

_REPORT = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('PRAGMA journal_mode')\n"
    "    journal = cursor.fetchone()[0]\n"
    "    cursor.execute('PRAGMA synchronous')\n"
    "    synchronous = cursor.fetchone()[0]\n"
    "print(journal, synchronous, connection.settings_dict['OPTIONS']['transaction_mode'])\n"
)


def test_a_sqlite_database_uses_write_ahead_logging_and_immediate_transactions(
    tmp_path: Path,
) -> None:
    env = embedded_env(tmp_path / "db.sqlite3")
    manage(env, "migrate", "--noinput")
    report = manage(env, "shell", "-c", _REPORT).strip().splitlines()[-1]
    journal, synchronous, transaction_mode = report.split()
    assert journal == "wal"
    assert synchronous == "1"  # NORMAL: safe with WAL, one fsync per checkpoint
    assert transaction_mode == "IMMEDIATE"

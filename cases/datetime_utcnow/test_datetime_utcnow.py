import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dirty_equals import IsStr
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from known_issues.casekit import bug_or_fixed, requires

from .app import AwareItem, GuideItem, make_engine, utc_now

# The deprecation is the claim: a DeprecationWarning naming utcnow (utcnow_warnings keeps only
# those). CPython's sentence (python/cpython#103857: "datetime.datetime.utcnow() is deprecated and
# scheduled for removal in a future version. Use timezone-aware objects ...") is its wording.
UTCNOW_DEPRECATION = (DeprecationWarning, IsStr(regex=r"(?s).*deprecated.*"))
deprecated_from_312 = requires("python>=3.12", "datetime.utcnow() is deprecated from Python 3.12")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(tmp_path / "items.db")
    yield engine
    engine.dispose()


def utcnow_warnings(caught: list[warnings.WarningMessage]) -> list[tuple[type[Warning], str]]:
    """Every warning that names utcnow, with its exact category and message."""
    return [(w.category, str(w.message)) for w in caught if "utcnow" in str(w.message)]


def stored_and_reloaded(engine: Engine, value: datetime) -> datetime:
    with Session(engine) as session:
        item = AwareItem(name="x", created_at=value)
        session.add(item)
        session.commit()
        item_id = item.id
    with Session(engine) as session:
        return session.scalars(select(AwareItem.created_at).where(AwareItem.id == item_id)).one()


@pytest.mark.bug
@deprecated_from_312
def test_utcnow_is_deprecated() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        datetime.utcnow()
    bug_or_fixed(utcnow_warnings(caught), bug=[UTCNOW_DEPRECATION], fixed=[])


@pytest.mark.bug
@deprecated_from_312
def test_orm_default_utcnow_warns_on_insert(engine: Engine) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Session(engine) as session:
            session.add(GuideItem(name="guide"))
            session.commit()
    # SQLAlchemy calls the column default once for the one row inserted.
    bug_or_fixed(utcnow_warnings(caught), bug=[UTCNOW_DEPRECATION], fixed=[])


@pytest.mark.pattern("guide's default=datetime.utcnow stores the current UTC wall time")
def test_orm_default_utcnow_stores_utc_wall_time(engine: Engine) -> None:
    before = utc_now().replace(tzinfo=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Session(engine) as session:
            session.add(GuideItem(name="guide"))
            session.commit()
    after = utc_now().replace(tzinfo=None)
    with Session(engine) as session:
        created = session.scalars(select(GuideItem.created_at)).one()
    assert created.tzinfo is None
    assert before <= created <= after


@pytest.mark.pattern("datetime.now(timezone.utc) default: read back as naive UTC wall time")
def test_aware_default_keeps_utc_meaning(engine: Engine) -> None:
    before = utc_now()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Session(engine) as session:
            session.add(AwareItem(name="aware"))
            session.commit()
    after = utc_now()
    with Session(engine) as session:
        created = session.scalars(select(AwareItem.created_at)).one()
    assert utcnow_warnings(caught) == []
    # SQLite keeps no offset: the value comes back naive, and means UTC only by convention.
    assert created.tzinfo is None
    assert before <= created.replace(tzinfo=timezone.utc) <= after


@pytest.mark.bug
def test_sqlite_drops_tzinfo_even_with_timezone_column(engine: Engine) -> None:
    stored = datetime(2026, 1, 10, 12, 30, 15, 123456, tzinfo=timezone.utc)
    reloaded = stored_and_reloaded(engine, stored)
    # DateTime(timezone=True) does not help on SQLite: the offset is gone. Naive and aware values
    # never compare equal, so each outcome below also pins whether tzinfo came back.
    bug_or_fixed(reloaded, bug=stored.replace(tzinfo=None), fixed=stored)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@pytest.mark.bug
@given(value=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets))
def test_sqlite_keeps_local_wall_time_not_utc(engine: Engine, value: datetime) -> None:
    reloaded = stored_and_reloaded(engine, value)
    # The wall-clock fields of the given offset are stored as they are, not converted to UTC:
    # a non-UTC aware value silently shifts by its offset when read back "as UTC".
    bug_or_fixed(reloaded, bug=value.replace(tzinfo=None), fixed=value)

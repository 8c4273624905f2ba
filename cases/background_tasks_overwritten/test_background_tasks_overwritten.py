from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .app import app, ran


@pytest.fixture
def client() -> Iterator[TestClient]:
    ran.clear()
    with TestClient(app) as c:
        yield c


@pytest.mark.bug
def test_injected_tasks_are_dropped_by_response_background(client: TestClient) -> None:
    response = client.get("/mixed")
    assert response.status_code == 200
    assert response.text == "Done"
    # The documented bug: only the Response's own task ran, the injected one was lost.
    assert ran == ["log_event"]


@pytest.mark.workaround("put every task on the injected BackgroundTasks")
def test_only_injected_background_tasks_run_all(client: TestClient) -> None:
    response = client.get("/injected-only")
    assert response.status_code == 200
    assert response.json() == {"status": "done"}
    assert ran == ["send_email", "log_event"]


@pytest.mark.workaround("use only the Response's background")
def test_only_response_background_runs(client: TestClient) -> None:
    response = client.get("/response-only")
    assert response.status_code == 200
    assert response.text == "Done"
    assert ran == ["log_event"]

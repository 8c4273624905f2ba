"""Is the error text the guide quotes for Issue #4 what a client of the route reads?"""

import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient

from known_issues.casekit import body, has, lookup

from .app import app

# The guide's "Error:" line, verbatim.
DOCUMENTED_MESSAGE = "JSON object must be str, bytes or bytearray"
# The error a Json field reports for a value that is not a string, as each Pydantic names it.
JSON_TYPE_ERROR = "type_error.json" if has("pydantic<2") else "json_type"


@pytest.mark.pattern("the guide's Error line: the message a client of the route reads")
def test_client_reads_documented_error_message() -> None:
    client = TestClient(app)
    response = client.post("/broken", data={"json_list": '["a", "b"]'})
    assert response.status_code == 422, response.text
    # Exact message, the JSON-type error, on the form field; url/input/ctx are incidental.
    assert lookup(body(response), "detail") == [
        IsPartialDict(loc=["body", "json_list"], type=JSON_TYPE_ERROR, msg=DOCUMENTED_MESSAGE)
    ]

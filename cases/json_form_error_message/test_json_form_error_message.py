"""Is the error text the document quotes for Issue #4 what a client of the route reads?"""

import pytest
from dirty_equals import IsOneOf, IsPartialDict
from fastapi.testclient import TestClient

from .app import app

# The document's "Error:" line, verbatim.
DOCUMENTED_MESSAGE = "JSON object must be str, bytes or bytearray"
# The error a Json field reports for a value that is not a string: its type is named
# "type_error.json" by Pydantic v1 and "json_type" by Pydantic v2; any other type is another error.
JSON_TYPE_ERROR = IsOneOf("type_error.json", "json_type")


@pytest.mark.pattern("the document's quoted error text is the message a client reads")
def test_client_reads_documented_error_message() -> None:
    client = TestClient(app)
    response = client.post("/broken", data={"json_list": '["a", "b"]'})
    assert response.status_code == 422, f"{response.status_code}: {response.text}"
    # Exact message, the JSON-type error, on the form field; url/input/ctx are incidental.
    assert response.json()["detail"] == [
        IsPartialDict(loc=["body", "json_list"], type=JSON_TYPE_ERROR, msg=DOCUMENTED_MESSAGE)
    ]

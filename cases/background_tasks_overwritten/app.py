"""The guide's Issue #2 routes: the injected BackgroundTasks mixed with Response(background=...), and
the two ways it recommends instead. Each route has its own path (the guide puts all three at "/")."""

from fastapi import BackgroundTasks, Depends, FastAPI, Header
from starlette.responses import BackgroundTask, Response

app = FastAPI()

# Names of the tasks that actually ran, in order; the tests clear it before each request.
ran: list[str] = []


def send_email() -> None:
    ran.append("send_email")


def log_event() -> None:
    ran.append("log_event")


@app.get("/mixed")
async def mixed(tasks: BackgroundTasks) -> Response:
    tasks.add_task(send_email)
    return Response(content="Done", background=BackgroundTask(log_event))


@app.get("/injected-only")
async def injected_only(tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_email)
    tasks.add_task(log_event)
    return {"status": "done"}


@app.get("/response-only")
async def response_only() -> Response:
    return Response(content="Done", background=BackgroundTask(log_event))


# "Use only Response background (but can't inject dependencies)": the route that returns the
# Response is a route like any other, so it can declare a dependency and hand its value to the task.
def current_user(x_user: str = Header()) -> str:
    return x_user


def log_event_for(user: str) -> None:
    ran.append(f"log_event:{user}")


@app.get("/response-only-with-dependency")
async def response_only_with_dependency(user: str = Depends(current_user)) -> Response:
    return Response(content="Done", background=BackgroundTask(log_event_for, user))

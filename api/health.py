"""`GET /health`: is the database reachable, is the broker reachable."""

from __future__ import annotations

import threading
from typing import Literal

import paho.mqtt.client as mqtt
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel

from models.db import ping
from runtime.settings import MqttAddress

__all__ = ["BrokerProbe", "router"]

router = APIRouter(tags=["health"])
# Orchestrators poll /health with short timeouts of their own; each probe must answer well within them.
PROBE_TIMEOUT_S = 2.0
# The probe connection lives for one CONNACK; the broker needs a keepalive, not a long one.
PROBE_KEEPALIVE_S = 10


class BrokerProbe:
    """Connects to the broker on demand and reports whether it answered with a CONNACK in time.

    Any CONNACK counts, a refusal included: the question is whether the broker is up, and the API holds no
    MQTT identity of its own (a shared one would kick the service that owns it off the broker).
    """

    def __init__(self, address: MqttAddress) -> None:
        self.address = address

    def reachable(self) -> bool:
        """True when the broker answers an MQTT connection now."""
        connected = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)

        def on_connect(_c: mqtt.Client, _u: object, _f: object, _reason: ReasonCode, _p: object) -> None:
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(self.address.host, self.address.port, keepalive=PROBE_KEEPALIVE_S)
            client.loop_start()
            return connected.wait(PROBE_TIMEOUT_S)
        except OSError:
            return False
        finally:
            client.loop_stop()
            client.disconnect()


class Health(BaseModel):
    """The health report."""

    status: Literal["ok", "degraded"]
    database: Literal["connected", "unreachable"]
    broker: Literal["connected", "unreachable"]


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(request: Request) -> JSONResponse:
    """Report whether the database and the broker answer; 503 when either does not."""
    try:
        with request.app.state.pool.connection(timeout=PROBE_TIMEOUT_S) as conn:
            ping(conn)
        database: Literal["connected", "unreachable"] = "connected"
    except Exception:
        database = "unreachable"
    probe: BrokerProbe = request.app.state.broker_probe
    broker: Literal["connected", "unreachable"] = "connected" if probe.reachable() else "unreachable"
    ok = database == "connected" and broker == "connected"
    report = Health(status="ok" if ok else "degraded", database=database, broker=broker)
    return JSONResponse(report.model_dump(), status_code=200 if ok else 503)

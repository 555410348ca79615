"""Production's own decision code, as the seed's triage service has it (section 5): the pydantic models and the
allow-list of the seed's catalog. The Python baselines of the benchmarks import it."""
from pydantic import BaseModel


class Action(BaseModel):
    name: str
    params: dict[str, str]
    rationale: str


class Decision(BaseModel):
    incident_id: str
    actions: list[Action]
    confidence: float
    needs_human: bool


ALLOWED = {"restart_pods", "scale_up", "rollback_release", "clear_redis_keys"}

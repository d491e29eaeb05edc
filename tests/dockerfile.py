"""The Dockerfile read as data: its instructions, its build stages, the images' ENV, exec-form
arguments; for the tests of the Dockerfile, docker/entrypoint.sh and compose.yaml.
"""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comment lines dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends in a line continuation"
    return instructions


def stages() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each build stage by name, in order: (what it is FROM, its instructions)."""
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "FROM":
            base, _, name = re.sub(r"\s+as\s+", " AS ", arguments, flags=re.IGNORECASE).partition(" AS ")
            found[name.strip() or base] = (base.strip(), [])
        elif found:
            found[next(reversed(found))][1].append((keyword, arguments))
    return found


def stage(name: str) -> list[tuple[str, str]]:
    """A stage's instructions, those of the stages it is built FROM first."""
    base, instructions = stages()[name]
    return (stage(base) if base in stages() else []) + instructions


def final_stage() -> list[tuple[str, str]]:
    """What a plain `docker build .` makes."""
    return stage(next(reversed(stages())))


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD or ENTRYPOINT (shell form would need a shell)."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), arguments
    return value


def instruction_text() -> str:
    """Every instruction, comments left out (they may well mention what the instructions avoid)."""
    return "\n".join(f"{keyword} {arguments}" for keyword, arguments in dockerfile_instructions())


def image_env(name: str = "serve") -> dict[str, str]:
    env = {}
    for keyword, arguments in stage(name):
        if keyword == "ENV":
            env.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments))
    return env

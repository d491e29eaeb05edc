"""The tools a node needs: a JDK 17 `java` to run Cassandra, and Maven to find Cassandra's jars."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .errors import NodeError

REQUIRED_JAVA = 17
POM = Path(__file__).with_name("pom.xml")
# Pinned: Maven 3.8 would otherwise pick dependency plugin 2.8.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

HOW_TO_GET_JDK = (
    "Install JDK 17 with `apt-get install openjdk-17-jdk-headless`, "
    "or set JAVA_HOME to a JDK 17 (its bin/java is then used)."
)


def require_java_17() -> Path:
    """The `java` to run Cassandra with ($JAVA_HOME/bin/java, else the one on PATH), checked to be Java 17."""
    java = _find_java()
    version = java_major_version(java)
    if version != REQUIRED_JAVA:
        found = f"Java {version}" if version else "of an unknown Java version"
        raise NodeError(
            f"{java} is {found}, but Cassandra 5.0 needs JDK {REQUIRED_JAVA} "
            f"(it fails on 11 and cannot run on 24+). {HOW_TO_GET_JDK}"
        )
    return java


def java_major_version(java: Path) -> int | None:
    """The major version `java -version` reports (8 for "1.8.0_x"), or None if it reports none."""
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as error:
        raise NodeError(f"could not run {java} -version: {error}. {HOW_TO_GET_JDK}") from error
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def has_full_jdk(java: Path) -> bool:
    """Whether `java` belongs to a JDK (not a bare JRE), which provides jdk.compiler and jdk.attach."""
    return (java.resolve().parent / "javac").exists()


def resolve_classpath(cache: Path) -> list[Path]:
    """Cassandra's jars in ~/.m2, resolved by Maven once and remembered in `cache`.

    Maven runs again only when the cache is missing or names a jar that is gone (e.g. ~/.m2 was wiped).
    """
    if cache.is_file():
        jars = _read_classpath(cache)
        if jars and all(jar.is_file() for jar in jars):
            return jars
    _build_classpath_with_maven(cache)
    return _read_classpath(cache)


def _find_java() -> Path:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            raise NodeError(f"JAVA_HOME is {java_home}, but it has no bin/java. {HOW_TO_GET_JDK}")
        return java
    found = shutil.which("java")
    if not found:
        raise NodeError(
            f"`java` was not found on PATH; Cassandra 5.0 needs JDK {REQUIRED_JAVA}. {HOW_TO_GET_JDK}"
        )
    return Path(found)


def _require_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise NodeError(
            "`mvn` was not found on PATH; Maven is needed to fetch Cassandra's jars. "
            "Install it with `apt-get install maven`."
        )
    return mvn


def _build_classpath_with_maven(cache: Path) -> None:
    mvn = _require_maven()
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(cache.name + ".partial")
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(POM),
        f"{DEPENDENCY_PLUGIN}:build-classpath",
        f"-Dmdep.outputFile={partial}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not partial.is_file():
        output = (result.stdout + result.stderr).strip().splitlines()
        raise NodeError(
            f"Maven could not resolve Cassandra's jars (exit {result.returncode}) with:\n"
            f"  {' '.join(command)}\n" + "\n".join(output[-30:])
        )
    partial.replace(cache)


def _read_classpath(cache: Path) -> list[Path]:
    return [Path(entry) for entry in cache.read_text().strip().split(os.pathsep) if entry]

"""What this machine's CPU can do, for the choices that depend on it: training in bfloat16, serving int8."""

from functools import cache
from pathlib import Path


@cache
def cpu_flags() -> frozenset[str]:
    """The instruction-set extensions /proc/cpuinfo lists (among its other words); empty where it
    cannot be read."""
    try:
        return frozenset(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()


def has_bfloat16() -> bool:
    """Whether the CPU computes in bfloat16; without these instructions oneDNN emulates it, slower
    than float32."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def has_int8_matrix_units() -> bool:
    """Whether the CPU has AMX's int8 tile multiply: there LiteRT ran the int8 export 4.8x as fast as
    the float one (bench.predictor --int8, an Intel Xeon), on an AMD EPYC without it 1.8x as slow."""
    return "amx_int8" in cpu_flags()

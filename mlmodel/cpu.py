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


def has_bfloat16_instructions() -> bool:
    """Whether the CPU computes in bfloat16 at all (AVX512's or AMX's instructions); without them
    oneDNN emulates it, slower than float32."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def has_bfloat16_matrix_units() -> bool:
    """Whether the CPU multiplies bfloat16 matrices in AMX's tiles, where mixed bfloat16 trains
    faster than float32 (bench.training_step: 0.273 against 0.318 s a step, an Intel Xeon with AMX,
    2026-12-01). With AVX512's bfloat16 instructions alone it trained slower (0.41-0.51 against
    0.30-0.32 s in two runs, an Intel Xeon without AMX, 2026-12-03), so there it is float32."""
    return "amx_bf16" in cpu_flags()


def has_int8_dot_products() -> bool:
    """Whether the CPU multiplies int8 in hardware dot products, where LiteRT runs the int8 export
    faster than the float one (bench.predictor --int8): AMX's int8 tiles (4.8x as fast, an Intel Xeon
    of 2026-12-02) or VNNI (2.7x, an Intel Xeon without AMX, 2026-12-03). On an AMD EPYC without AMX
    (its other flags were not recorded) it was 1.8x as slow: PREDICTOR_PRECISION=float overrides."""
    return bool(cpu_flags() & {"amx_int8", "avx512_vnni", "avx_vnni"})

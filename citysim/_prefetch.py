"""A processor hint for numba kernels: fetch an array element's cache line now (no effect on results).

Used where a kernel knows the next element it will read at random well before it reads it
(the event loop's next step, the next occurrences' places in the cumulative weights).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch", "prefetch_to_write"]


def _codegen(write: int):
    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:], strict=True)]
        shape, strides = cgutils.unpack_tuple(builder, ary.shape), cgutils.unpack_tuple(builder, ary.strides)
        ptr = cgutils.get_item_pointer2(
            context, builder, ary.data, shape, strides, aryty.layout, idx[: aryty.ndim], wraparound=False,
            boundscheck=False,
        )  # fmt: skip
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        # unmangled, LLVM names it for the pointer type itself (p0i8 with typed pointers, p0 without)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(write), i32(3), i32(1)])  # keep close; data
        return context.get_dummy_value()

    return codegen


@intrinsic
def prefetch(typingctx, arr, i, j):
    """Ask the processor to fetch ``arr[i, j]``'s cache line, to read it (``j`` ignored for a 1-d array)."""
    return types.void(arr, i, j), _codegen(0)


@intrinsic
def prefetch_to_write(typingctx, arr, i, j):
    """Ask the processor to fetch ``arr[i, j]``'s cache line, to write to it (``j`` ignored for a 1-d array)."""
    return types.void(arr, i, j), _codegen(1)
